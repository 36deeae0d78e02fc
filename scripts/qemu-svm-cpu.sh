# The CPU QEMU emulates wherever utsuwa runs on AMD-V (make run, test, bench,
# bench-peer, tools/exit-profile.sh): sourced by the scripts, read by mk/run.mk.
#
# qemu64 (an AMD family 0Fh part) rather than EPYC: Linux marks family 17h
# (EPYC, Zen) vulnerable to Speculative Return Stack Overflow unless the CPU
# enumerates IBPB, which QEMU's TCG cannot emulate, and then prints a WARNING
# in every boot, native or not. Family 0Fh is on none of Linux's speculation
# bug lists, so a Linux guest's dmesg is clean. SVM and nested paging are
# switched on by hand; TCG emulates them on any model.
QEMU_SVM_CPU=qemu64,+svm,+npt
