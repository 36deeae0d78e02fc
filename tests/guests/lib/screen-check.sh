# Looks at the emulated machine's screen through QEMU's monitor (on a TCP
# port), to check what drivers/fbcon.c drew: a screendump of an RGB
# framebuffer compared pixel by pixel with the font the build used
# (grub-common's /usr/share/grub/ascii.h, mk/font.mk), or EGA text read back
# from 0xB8000. Sourced by tests/guests/uefi-test.sh after console-driver.sh.
#
#   screen_monitor_args          sets $screen_args: QEMU's -monitor option
#   screen_open OUT              connects to it (QEMU must be started);
#                                what it says goes to OUT
#   screen_cmd LINE              one monitor command
#   screen_close
#   screen_rgb_row0 PPM TEXT     status 0 when the first text row of the
#                                screendump PPM shows TEXT in the 8x16 font
#   screen_ega_mirrors OUT LOG   status 0 when the monitor's "xp" dump of
#                                0xB8000 in OUT shows rows of the serial log LOG

screen_monitor_args() {
	screen_port=$(free_port) || return 1
	screen_args="-monitor tcp:127.0.0.1:$screen_port,server,nowait"
}

screen_open() {
	local end=$((SECONDS + 20))
	until { exec 5<>"/dev/tcp/127.0.0.1/$screen_port"; } 2>/dev/null; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
	cat <&5 >"$1" &
	screen_reader=$!
}

screen_cmd() { printf '%s\n' "$1" >&5; }

screen_close() {
	exec 5>&-
	[ -n "${screen_reader:-}" ] && kill "$screen_reader" 2>/dev/null
	screen_reader=
}

# A binary PPM (P6, maxval 255): the header's three numbers, then pixels. The
# text is light grey on black: a pixel counts as lit above half of 0xc0.
screen_rgb_row0() {
	local ppm=$1 text=$2 w h hdr
	read -r w h < <(head -c 64 "$ppm" | tr -s ' \n' '  ' | awk '$1 == "P6" { print $2, $3 }')
	[ -n "$w" ] || return 1
	hdr=$(head -c 64 "$ppm" | awk 'NR <= 3 { n += length($0) + 1 } END { print n }')
	od -An -v -tu1 -j "$hdr" -N $((16 * w * 3)) "$ppm" | awk -v w="$w" -v text="$text" '
		function hex(s,  v, i) {
			v = 0
			for (i = 3; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
			return v
		}
		BEGIN {
			for (c = 32; c < 127; c++) ord[sprintf("%c", c)] = c
			n = 0
			while ((getline line < "/usr/share/grub/ascii.h") > 0)
				while (match(line, /0x[0-9a-fA-F][0-9a-fA-F]/)) {
					font[n++] = hex(substr(line, RSTART, RLENGTH))
					line = substr(line, RSTART + RLENGTH)
				}
		}
		{ for (i = 1; i <= NF; i++) px[k++] = $i }
		END {
			if (n != 2048) { print "screen: font has " n " bytes"; exit 1 }
			bad = 0
			for (i = 0; i < length(text); i++) {
				g = ord[substr(text, i + 1, 1)] * 16
				for (y = 0; y < 16; y++)
					for (x = 0; x < 8; x++) {
						want = int(font[g + y] / 2 ^ (7 - x)) % 2
						p = (y * w + i * 8 + x) * 3
						lit = px[p] + px[p + 1] + px[p + 2] > 3 * 0x60
						if (lit != want) bad++
					}
			}
			if (bad) print "screen: " bad " pixels differ from the font"
			exit bad != 0
		}'
}

# (mawk, Debian's awk, has no strtonum: hex() reads "0x..".)
# "xp /4000xb 0xb8000" prints lines of "address: 0x.. 0x.."; even bytes are
# characters, 80 cells a row (the pitch GRUB reports for 80x25, 160 bytes).
screen_ega_rows() {
	tr -d '\r' <"$1" | grep -a '^0*b8[0-9a-f]*: ' | sed 's/^[^:]*://' | tr ' ' '\n' |
		grep -a '^0x' | awk '
		function hex(s,  v, i) {
			v = 0
			for (i = 3; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
			return v
		}
		BEGIN { for (c = 32; c < 127; c++) chr[c] = sprintf("%c", c) }
		NR % 2 == 1 { v = hex($0); row = row (v in chr ? chr[v] : "?") }
		NR % 160 == 0 { sub(/ +$/, "", row); print row; row = "" }'
}

# Every non-blank row of the EGA screen (dumped in OUT) is part of a line of
# the serial log LOG, and there are at least five: the screen mirrors the log.
screen_ega_mirrors() {
	local out=$1 log=$2 row rows=0 missing=0
	while IFS= read -r row; do
		[ -n "$row" ] || continue
		rows=$((rows + 1))
		tr -d '\r' <"$log" | grep -aqF -- "$row" || {
			echo "screen: not in the serial log: '$row'"
			missing=$((missing + 1))
		}
	done < <(screen_ega_rows "$out")
	[ "$rows" -ge 5 ] && [ "$missing" = 0 ]
}
