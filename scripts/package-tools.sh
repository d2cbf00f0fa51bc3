#!/usr/bin/env bash
# Host tools for `npm run deb` and `npm run test:package`, installed when missing (a fresh Debian 12 has
# none of them): dpkg-dev (dpkg-shlibdeps: the addons' library dependencies), binutils (strip),
# lintian, mmdebstrap (the Debian trees the package is installed in), util-linux (unshare).
set -euo pipefail
exec bash "$(dirname "$0")/apt-install-missing.sh" package-tools dpkg-dev binutils lintian mmdebstrap util-linux
