# COMPREPLY for action $1 (a kind, or =WORD,WORD) and the word so far $2.
_kexec_ts_complete() {
  local cur=$2 f w
  case $1 in
    '='*)
      w=${1#=}
      mapfile -t COMPREPLY < <(compgen -W "${w//,/ }" -- "$cur")
      ;;
    file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      ;;
    dir)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      ;;
    kernel | initrd)
      # The kernels (or initramfs files) under /boot first, then any file.
      compopt -o filenames 2>/dev/null
      local -a boot
      if [[ $1 == kernel ]]; then
        boot=("$_kexec_ts_boot"/vmlinu[xz]* "$_kexec_ts_boot"/bzImage*)
      else
        boot=("$_kexec_ts_boot"/initrd* "$_kexec_ts_boot"/initramfs*)
      fi
      COMPREPLY=()
      for f in "${boot[@]}"; do
        [[ -f $f && $f == "$cur"* ]] && COMPREPLY+=("$f")
      done
      while IFS= read -r f; do
        for w in "${boot[@]}"; do [[ $f == "$w" ]] && continue 2; done
        COMPREPLY+=("$f")
      done < <(compgen -f -- "$cur")
      ;;
    entry)
      # The contract of docs/cli.md: the same kexec-ts prints the ids, one a line; a failure offers none.
      mapfile -t COMPREPLY < <(compgen -W "$("${COMP_WORDS[0]}" entries --ids 2>/dev/null)" -- "$cur")
      ;;
    *) COMPREPLY=() ;;
  esac
}

_kexec_ts() {
  local cur=${COMP_WORDS[COMP_CWORD]} path='' n=0 i=1 w ended='' opt='' at=1
  local _kt_subs _kt_flags _kt_vals _kt_ops _kt_rep _kt_act _kt_opt
  _kexec_ts_node ''
  # The words before the cursor: a subcommand's name is the first word after its parent's path; an option's
  # value is skipped (bash splits --opt=value into --opt, =, value); after -- every word is an operand.
  while ((i < COMP_CWORD)); do
    w=${COMP_WORDS[i]}
    if [[ -n $ended ]]; then
      ((n++))
    elif [[ $w == -- ]]; then
      ended=1
    elif [[ $w == -?* ]]; then
      if [[ ${COMP_WORDS[i + 1]} == = ]]; then
        if ((i + 1 == COMP_CWORD)); then opt=$w cur='' && break; fi
        if ((i + 2 == COMP_CWORD)); then opt=$w && break; fi
        ((i += 2))
      elif _kexec_ts_takes "$w"; then
        if ((i + 1 == COMP_CWORD)); then opt=$_kt_opt && break; fi
        ((i++))
      fi
    elif ((i == at)) && [[ " $_kt_subs " == *" $w "* ]]; then
      path=${path:+$path }$w
      at=$((i + 1))
      _kexec_ts_node "$path"
    else
      ((n++))
    fi
    ((i++))
  done
  COMPREPLY=()
  if [[ -n $opt ]]; then
    _kexec_ts_value "$path" "$opt"
    _kexec_ts_complete "$_kt_act" "$cur"
    return 0
  fi
  if [[ -z $ended && $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$_kt_flags $_kt_vals" -- "$cur")
    return 0
  fi
  local -a ops=($_kt_ops)
  local k=$n
  if ((k >= ${#ops[@]})); then
    if [[ -n $_kt_rep ]]; then k=$((${#ops[@]} - 1)); else k=-1; fi
  fi
  ((k >= 0)) && _kexec_ts_complete "${ops[k]}" "$cur"
  if [[ -n $_kt_subs ]] && ((COMP_CWORD == at)); then
    mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -W "$_kt_subs" -- "$cur")
  fi
  return 0
}

complete -F _kexec_ts kexec-ts
