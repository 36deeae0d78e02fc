# Boots utsuwa under Bochs from a GRUB ISO (tests/bochs/README.md): the parts
# that tests/bochs/run-bochs.sh (the matrix) and the console driver's Bochs
# back end (tests/guests/lib/console-driver.sh) share. Sourced; sets nothing
# until called.
#
#   bochs_check_tools          the emulator, GRUB and xorriso are there;
#                              sets $bochs_bios and $bochs_vgabios
#   bochs_build_iso DIR KERNEL CONFIG MODULE...
#                              DIR/utsuwa.iso: GRUB boots KERNEL with CONFIG
#                              and each MODULE as a boot module named by its
#                              file name; status non-zero (and DIR/grub-mkrescue.out)
#                              when grub-mkrescue fails
#   bochs_write_rc DIR SMP COM1 [MEGS]   (MEGS: the machine's memory, default 1024)
#                              DIR/bochsrc (SMP CPUs, 1 GiB, the ISO, COM1 as
#                              the words of a com1: line) and DIR/debugger.rc
#   bochs_exec DIR SECONDS     runs Bochs in DIR, at most SECONDS (exec: call
#                              it in a subshell or a background job)
#
# Environment: BOCHS (default bochs), BOCHS_CPU (default tigerlake), BOCHS_IPS
# (instructions per emulated second, default 20000000), BOCHS_RC_EXTRA (more
# bochsrc lines, e.g. a NIC: tests/bochs/migrate-vmx.sh).

bochs_check_tools() {
	local tool
	for tool in "${BOCHS:-bochs}" grub-mkrescue xorriso; do
		command -v "$tool" >/dev/null || {
			echo "bochs: $tool is missing (scripts/setup-deps.sh installs it)" >&2
			return 1
		}
	done
	bochs_bios=/usr/share/bochs/BIOS-bochs-latest
	bochs_vgabios=/usr/share/bochs/VGABIOS-lgpl-latest
	[ -f "$bochs_bios" ] || bochs_bios=/usr/share/bochs/BIOS-bochs-legacy
}

# The layout of the Makefile's iso rule: a module's name is the string after
# its path. GRUB's script lexer takes quotes, backslashes and $ for itself,
# and its multiboot2 command re-quotes a word with spaces: a configuration
# with any of those (cmdline="a b") goes in a .cfg boot module instead, which
# the hypervisor reads as written (docs/config.md), with only its exit= word
# (if any) left on the command line.
bochs_build_iso() {
	local dir=$1 kernel=$2 cfg=$3 cmdline word m
	shift 3
	local -a mods=("$@")
	mkdir -p "$dir/iso/boot/grub" || return 1
	cp "$kernel" "$dir/iso/boot/utsuwa.elf" || return 1
	cmdline=$cfg
	if [[ $cfg == *[\"\'\\\$]* ]]; then
		cmdline=""
		for word in $cfg; do
			[[ $word == exit=* ]] && cmdline=$word
		done
		printf '%s\n' "$cfg" >"$dir/case.cfg"
		mods+=("$dir/case.cfg")
	fi
	{
		echo 'set timeout=0'
		echo 'set default=0'
		echo 'serial --unit=0 --speed=115200'
		echo 'terminal_output serial console'
		echo 'menuentry "utsuwa" {'
		echo "  multiboot2 /boot/utsuwa.elf $cmdline"
		for m in "${mods[@]}"; do
			cp "$m" "$dir/iso/boot/" || return 1
			echo "  module2 /boot/${m##*/} ${m##*/}"
		done
		echo '}'
	} >"$dir/iso/boot/grub/grub.cfg" || return 1
	grub-mkrescue -o "$dir/utsuwa.iso" "$dir/iso" >"$dir/grub-mkrescue.out" 2>&1
}

# Debian's Bochs has no "nogui" display and starts in its debugger: an RFB
# display nobody waits for, and "c" (continue) as the debugger's first
# command. Time is emulated: ips instructions make a second.
bochs_write_rc() {
	local dir=$1 smp=$2 com1=$3 megs=${4:-1024}
	# Bochs 2.7 allocates at most 2048 MB of host memory (memory: guest=,
	# host=); a larger machine's RAM is swapped to a file in 128 KiB blocks,
	# and the swapping does not look at the CPU's cached stack page: a
	# block swapped out from under it takes the stack's writes and gives its
	# reads (README, "Robustness": the hypervisor "crashed" at RIP 3).
	local host=$((megs < 2048 ? megs : 2048))
	[ "$megs" -le 2048 ] || echo "bochs: a machine of $megs MiB: Bochs swaps its RAM above" \
		"2048 MiB and can corrupt the stack of the code it runs (README, \"Robustness\")" >&2
	cat >"$dir/bochsrc" <<-EOF2
	memory: guest=$megs, host=$host
	cpu: model=${BOCHS_CPU:-tigerlake}, count=$smp, ips=${BOCHS_IPS:-20000000}, reset_on_triple_fault=0
	romimage: file=$bochs_bios
	vgaromimage: file=$bochs_vgabios
	ata0-master: type=cdrom, path=utsuwa.iso, status=inserted
	boot: cdrom
	display_library: rfb, options="timeout=0"
	speaker: enabled=0
	sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
	com1: enabled=1, $com1
	log: bochs.log
	panic: action=fatal
	error: action=report
	info: action=report
	debug: action=ignore
	${BOCHS_RC_EXTRA:-}
	EOF2
	echo c >"$dir/debugger.rc"
}

bochs_exec() {
	cd "$1" && exec timeout -k 10 "$2" "${BOCHS:-bochs}" -q -f bochsrc -rc debugger.rc
}
