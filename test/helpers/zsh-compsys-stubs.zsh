# compsys' completers as plain functions that print what they would offer, one `COMPLETER WORD` a line,
# so that a zsh completion function can run outside a completion widget (test/unit/cli/completion.test.ts).

# compadd [-J GROUP] -a ARRAY, or compadd -- WORD...: each word.
compadd() {
  local a
  while (( $# )); do
    case $1 in
      -a) for a in ${(P)2}; do print -r -- "compadd $a"; done; shift 2 ;;
      -J) shift 2 ;;
      --) shift; for a; do print -r -- "compadd $a"; done; return ;;
      *) shift ;;
    esac
  done
}

# _describe -t TAG DESCRIPTION ARRAY: each word, without its `:description`.
_describe() {
  local a
  for a in ${(P)4}; do print -r -- "_describe ${a%%:*}"; done
}

_files() { print -r -- "_files $*"; }

# compset -P PATTERN: drops the prefix from the current word, as it does inside a widget.
compset() { [[ $1 == -P ]] && words[CURRENT]=${words[CURRENT]#*=}; }
