# Completes command lines in a real interactive zsh with compsys (compinit), through a pseudo-terminal
# (zsh/zpty): each line is typed, TAB (bound to list-choices) completes it, and the line is killed. What
# compsys offers is recorded by a compadd that first asks the real one for the words that match (-O)
# and writes them to a log; the log is read after the shell has run the next command, so it is whole.
# Prints each case's words, one a line, then a line @@.
#   zsh -f zsh-complete.zsh FPATH_DIR BOOT_DIR 'kexec-ts vmcore ' 'kexec-ts kdump build-initrd --compress ' ...
# Run by test/unit/cli/completion.test.ts.
zmodload zsh/zpty
dir=$1 boot=$2
shift 2
log=$(mktemp)
trap 'rm -f $log' EXIT
zpty z 'TERM=vt100 COLUMNS=200 zsh -f -i'
zpty -w z "PS1='@@PS1@@ '; fpath=(${(q)dir} \$fpath); _kexec_ts_boot=${(q)boot}; autoload -Uz compinit; compinit -u -D; bindkey '^I' list-choices"
zpty -w z 'compadd() { if [[ -z ${@[(r)-[OAD]*]} ]]; then local -a _m; builtin compadd -O _m "$@"; (( ${#_m} )) && print -rl -- $_m >>'${(q)log}'; fi; builtin compadd "$@"; }; print @@RE""ADY@@'
# Typed before zle reads it, TAB would be a plain character of a cooked terminal: wait for the prompt
# that zle draws once it has the terminal.
zpty -r z out '*@@READY@@*@@PS1@@*' || exit 1
for line in "$@"; do
  : >$log
  zpty -w -n z "$line"$'\t\C-u'
  # The typed text reads @@E''ND@@; only the command's output reads @@END@@.
  zpty -w z "print @@E''ND@@"
  zpty -r z out '*@@END@@*@@PS1@@*' || exit 1
  cat $log
  print @@
done
zpty -d z
