#!/bin/sh
# Independent test vectors for package auth, computed with openssl and base64
# only (never with the code under test). Run from this directory:
#   sh vectors.sh > vectors.txt
# Output: one "name value" line per vector; nonces and bodies given in hex are
# turned into raw bytes with xxd -r -p, so binary (non-UTF-8, NUL-containing)
# nonces are hashed as bytes.
set -eu
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
h64() { openssl dgst -md5 -binary | base64 -w0; }   # B64(H(stdin))
hex2bin() { printf '%s' "$1" | xxd -r -p; }

# userhash USER PASS -> B64(H(user:pass))
userhash() { printf '%s:%s' "$1" "$2" | h64; }
# md5cred USER PASS NONCEFILE -> B64(H(B64(H(user:pass)) ":" nonce))
md5cred() { { printf '%s:' "$(userhash "$1" "$2")"; cat "$3"; } | h64; }
# mac USER PASS NONCEFILE BODYFILE -> B64(H(B64(H(user:pass)) ":" nonce ":" B64(H(body))))
mac() { { printf '%s:' "$(userhash "$1" "$2")"; cat "$3"; printf ':%s' "$(h64 < "$4")"; } | h64; }

printf 'Nonce' > "$T/n_text"
hex2bin 'ff00803ac3280a7f' > "$T/n_bin"       # binary nonce with NUL, ':' and invalid UTF-8
: > "$T/n_empty"
printf '<SyncML/>' > "$T/b_xml"
hex2bin '02a4016a00' > "$T/b_wbxml"

echo "basic.Bruce2.OhBehave $(printf 'Bruce2:OhBehave' | base64 -w0)"
echo "userhash.Bruce2.OhBehave $(userhash Bruce2 OhBehave)"
echo "md5.Bruce2.OhBehave.text $(md5cred Bruce2 OhBehave "$T/n_text")"
echo "md5.Bruce2.OhBehave.bin $(md5cred Bruce2 OhBehave "$T/n_bin")"
echo "md5.Bruce2.OhBehave.empty $(md5cred Bruce2 OhBehave "$T/n_empty")"
echo "mac.Bruce2.OhBehave.text.xml $(mac Bruce2 OhBehave "$T/n_text" "$T/b_xml")"
echo "mac.Bruce2.OhBehave.bin.xml $(mac Bruce2 OhBehave "$T/n_bin" "$T/b_xml")"
echo "mac.Bruce2.OhBehave.bin.wbxml $(mac Bruce2 OhBehave "$T/n_bin" "$T/b_wbxml")"
