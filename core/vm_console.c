#include "hv/vm_console.h"
#include "hv/console.h"
#include "hv/vm.h"

static void emit(struct vm *vm)
{
	kprintf("[%s] %.*s\n", vm->name, (int)vm->console_len, vm->console_line);
	vm->console_len = 0;
}

void vm_console_write(struct vm *vm, const char *s, size_t n)
{
	spin_lock(&vm->console_lock);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\n') {
			emit(vm);
		} else if (c != '\r') {
			/* Control characters would garble the host log. */
			vm->console_line[vm->console_len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '.';
			if (vm->console_len == sizeof(vm->console_line))
				emit(vm);
		}
	}
	spin_unlock(&vm->console_lock);
}

void vm_console_flush(struct vm *vm)
{
	spin_lock(&vm->console_lock);
	if (vm->console_len)
		emit(vm);
	spin_unlock(&vm->console_lock);
}
