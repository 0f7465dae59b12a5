#!/bin/sh
# Independent package 0 vectors for package notification, computed with
# printf, xxd, openssl and base64 only (never with the code under test), from
# the bit layout of notification.md §1 and the digest of §3:
#   digest = H( B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)) )
# Run from this directory:  sh vectors.sh > vectors.txt
# Output: one vector per line as space-separated key=value pairs; byte strings
# are hex (server id too, so that empty and long ids need no quoting).
set -eu
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
h64() { openssl dgst -md5 -binary | base64 -w0; }
hex() { xxd -p | tr -d '\n'; }
hex2bin() { printf '%s' "$1" | xxd -r -p; }

# vector NAME SERVERID PASSWORD NONCEHEX VERSION UI INITIATOR SESSIONID VENDORHEX
vector() {
	name=$1 sid=$2 pw=$3 noncehex=$4 ver=$5 ui=$6 init=$7 session=$8 vendor=$9
	# trigger-hdr: version (10 bits), ui-mode (2), initiator (1), 27 zero bits,
	# session id (16), then length-prefixed server id and vendor data.
	b0=$(printf '%02x' $((ver >> 2)))
	b1=$(printf '%02x' $(( ((ver & 3) << 6) | (ui << 4) | (init << 3) )))
	sidhex=$(printf '%s' "$sid" | hex)
	trig="${b0}${b1}000000$(printf '%04x' "$session")$(printf '%02x' "$(printf '%s' "$sid" | wc -c)")${sidhex}${vendor}"
	hex2bin "$noncehex" > "$T/nonce"
	digest=$({ printf '%s:' "$(printf '%s:%s' "$sid" "$pw" | h64)"; cat "$T/nonce"; printf ':%s' "$(hex2bin "$trig" | h64)"; } | openssl dgst -md5 -binary | hex)
	echo "name=$name sid=$sidhex pw=$pw nonce=$noncehex ver=$ver ui=$ui init=$init session=$session vendor=$vendor trigger=$trig digest=$digest"
}

txt() { printf '%s' "$1" | hex; }
long=$(yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c 255)

vector spec com.mgmtsrv.manage srvpwd "$(txt srvnonce)" 11 1 0 4660 ""
vector empty-id "" p "ff00803ac3" 12 3 1 65535 ""
vector long-id "$long" secret "$(txt n)" 11 2 1 1 "cafebabe00ff"
vector binary-nonce dm.example.com "pa:ss" "00ff3a80c328" 11 0 1 171 ""
vector reset-text com.mgmtsrv.manage srvpwd "$(txt 0x00000000)" 11 1 0 4660 ""
vector reset-zeros com.mgmtsrv.manage srvpwd "00000000" 11 1 0 4660 ""
