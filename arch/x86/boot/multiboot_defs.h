/* Multiboot header constants (Multiboot 0.6.96 section 3.1; Multiboot2 1.0 section 3.1). */
#ifndef MULTIBOOT_DEFS_H
#define MULTIBOOT_DEFS_H

#define MB1_HEADER_MAGIC 0x1BADB002
/* bit 0: modules page-aligned; bit 1: memory map wanted; bit 16: address fields valid */
#define MB1_HEADER_FLAGS 0x00010003
#define MB1_BOOT_MAGIC 0x2BADB002

#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_BOOT_MAGIC 0x36d76289

#endif
