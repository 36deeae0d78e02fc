#!/bin/bash
# PCI passthrough from the monitor (docs/passthrough.md), on AMD-V under QEMU
# with QEMU's edu at 00:05.0 (named by the boot configuration, so reserved
# from the drivers) and an e1000e at 00:06.0 (not named: utsuwa's e1000e
# driver takes it as the uplink). Checks:
#   - the VM with pci=00:05.0 sees the function
#   - snapshot and migration of it are refused with a message
#   - destroy resets and releases the function, and a VM created afterwards
#     from the monitor gets it again
#   - a VM asking for the e1000e the driver uses is refused with a message
#   - another e1000e (00:07.0, named by VM ptn) is reset by FLR or D3hot to D0
#     when the monitor resets ptn, and again when it destroys ptn
# On q35 behind QEMU's amd-iommu.
# Prints one PASS/FAIL line per check and "passthru: N passed, N failed".
#
# Usage: passthru-test.sh -k build/utsuwa.elf -g build/guests -o build/guests/logs
set -u
name=passthru driver_needs="passthru.bin"
. "$(dirname "$0")/lib/console-driver.sh"
driver_args "$@"

vm='image=passthru.bin,mode=long,mem=16M,cpus=1,arg=2,pci=00:05.0'
cfg="exit=halt vm=pt,$vm"
cfg+=" vm=ptn,image=passthru.bin,mode=long,mem=16M,cpus=1,arg=2,pci=00:07.0"
DRIVER_QEMU_ARGS="-machine q35 -device amd-iommu -device edu,addr=05.0 -device e1000e,addr=06.0 -device e1000e,addr=07.0" \
	driver_start "$log_dir/passthru-test.log" 120 2 "$cfg" "$guest_dir/passthru.bin"

wait_for 'VMs? on [0-9]+ CPUs' 60
wait_for '\[pt\] passthru: edu found' 20
check $? "the VM sees the function"
sleep 1
cmd ''
cmd_until 'snapshot pt' 'snapshot: vm pt has a PCI function passed through'
check $? "snapshot refused"
cmd_until 'migrate pt 127.0.0.1:9' 'migrate: vm pt has a PCI function passed through'
check $? "migration refused"
cmd_until 'destroy pt' "vm 'pt': pci 00:05.0 released \\(bus master off\\)"
check $? "destroy resets and releases the function"
cmd_until "create vm=pt2,$vm" '\[pt2\] passthru: edu found' 30
check $? "a VM created afterwards gets it"
cmd_until 'create vm=nic,image=passthru.bin,mode=long,mem=16M,arg=2,pci=00:06.0' \
	"vm 'nic': pci=00:06.0: in use by utsuwa's e1000e driver"
check $? "the driver's NIC is refused"
# A PCI Express function with a power-management capability: reset by FLR
# if it has one, else D3hot to D0 (whichever, the log says which).
cmd_until 'reset ptn' "vm 'ptn': pci 00:07.0 reset \((FLR|D3hot to D0)\)" 30
check $? "the monitor's reset resets the e1000e"
cmd_until 'destroy ptn' "vm 'ptn': pci 00:07.0 released \((FLR|D3hot to D0)\)" 30
check $? "destroy releases the e1000e"
driver_end
