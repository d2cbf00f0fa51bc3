# Completes command lines in a real interactive zsh with compsys (compinit), through a pseudo-terminal
# (zsh/zpty), and prints what zsh lists for each: the `list-choices` widget is bound to TAB, so the
# listing is printed under the line, which is then killed. Each case's output ends with a line @@.
#   zsh -f zsh-complete.zsh FPATH_DIR BOOT_DIR 'kexec-ts vmcore ' 'kexec-ts kdump build-initrd --compress ' ...
# Run by test/unit/cli/completion.test.ts.
zmodload zsh/zpty
dir=$1 boot=$2
shift 2
zpty z 'TERM=vt100 COLUMNS=200 zsh -f -i'
zpty -w z "PS1='%% ' PROMPT_EOL_MARK=''; fpath=(${(q)dir} \$fpath); _kexec_ts_boot=${(q)boot}; autoload -Uz compinit; compinit -u -D; LISTMAX=0; bindkey '^I' list-choices; print @@RE''ADY@@"
zpty -r z out '*@@READY@@*' || exit 1
for line in "$@"; do
  zpty -w -n z "$line"$'\t\C-u'
  # The typed text reads @@E''ND@@; only the command's output reads @@END@@.
  zpty -w z "print @@E''ND@@"
  zpty -r z out '*@@END@@*' || exit 1
  print -r -- "$out" | tr -d '\r\0' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g'
  print @@
done
zpty -d z
