# Offers action $1 (a kind, or =WORD,WORD).
_kexec_ts_complete() {
  local -a w
  case $1 in
    '='*) w=(${(s:,:)${1#=}}); compadd -a w ;;
    file) _files ;;
    dir) _files -/ ;;
    kernel | initrd)
      # The kernels (or initramfs files) under /boot first, then any file.
      if [[ $1 == kernel ]]; then w=($_kexec_ts_boot/(vmlinu[xz]|bzImage)*(N-.))
      else w=($_kexec_ts_boot/(initrd|initramfs)*(N-.)); fi
      (( ${#w} )) && compadd -J boot -a w
      _files
      ;;
    entry)
      # The contract of docs/cli.md: the same kexec-ts prints the ids, one a line; a failure offers none.
      w=(${(f)"$(${words[1]} entries --ids 2>/dev/null)"})
      (( ${#w} )) && compadd -a w
      ;;
  esac
}

_kexec-ts() {
  local cur=${words[CURRENT]} path='' n=0 i=2 w ended='' opt='' at=2
  local _kt_subs _kt_flags _kt_vals _kt_ops _kt_rep _kt_act _kt_opt
  local -a _kt_cmds _kt_descs ops
  _kexec_ts_node ''
  # The words before the cursor: a subcommand's name is the first word after its parent's path; an option's
  # value is skipped; after -- every word is an operand.
  while (( i < CURRENT )); do
    w=${words[i]}
    if [[ -n $ended ]]; then
      (( n++ ))
    elif [[ $w == -- ]]; then
      ended=1
    elif [[ $w == -?* ]]; then
      if _kexec_ts_takes "$w"; then
        if (( i + 1 == CURRENT )); then opt=$_kt_opt; break; fi
        (( i++ ))
      fi
    elif (( i == at )) && [[ " $_kt_subs " == *" $w "* ]]; then
      path=${path:+$path }$w
      at=$((i + 1))
      _kexec_ts_node "$path"
    else
      (( n++ ))
    fi
    (( i++ ))
  done
  if [[ -z $opt && -z $ended && $cur == --?*=* ]]; then
    opt=${cur%%=*}
    compset -P '*='
  fi
  if [[ -n $opt ]]; then
    _kexec_ts_value "$path" "$opt"
    _kexec_ts_complete "$_kt_act"
    return 0
  fi
  if [[ -z $ended && $cur == -* ]]; then
    _describe -t options option _kt_descs
    return 0
  fi
  if [[ -n $_kt_subs ]] && (( CURRENT == at )); then
    _describe -t commands command _kt_cmds
  fi
  ops=(${=_kt_ops})
  local k=$n
  if (( k >= ${#ops} )); then
    if [[ -n $_kt_rep ]]; then k=$(( ${#ops} - 1 )); else k=-1; fi
  fi
  (( k >= 0 )) && _kexec_ts_complete "${ops[k + 1]}"
  return 0
}

# Autoloaded by compinit, this file is the function's body: define, then run it. Sourced, only define.
if [[ $funcstack[1] == _kexec-ts ]]; then
  _kexec-ts "$@"
fi
