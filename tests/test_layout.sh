#!/bin/sh
# Keeps the architecture of DESIGN.md visible: engine/ uses no GLib/GTK/Cairo, ui/render/
# uses no GTK and no GLib API of its own. Prints TAP.
src=${ATTN_SOURCE_DIR:-$(dirname "$0")/..}
n=0
fail=0
check() { # description, grep pattern, folder
  n=$((n + 1))
  hits=$(grep -rnE "$2" "$src/$3" --include='*.c' --include='*.h' 2>/dev/null)
  if [ -z "$hits" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; echo "$hits" | sed 's/^/# /'; fail=1; fi
}
echo "1..3"
check "engine/ includes no GLib, GTK, Cairo or Pango" '#include *<(glib|gtk|gio|gdk|cairo|pango)' engine
check "ui/render/ includes no GTK or GDK" '#include *<(gtk|gdk|gio)' ui/render
check "ui/render/ calls no GLib API beyond freeing Pango objects" '\bg_(malloc|new|free|strdup|print|list|hash|array|string|error)' ui/render
exit $fail
