# Part 40: the ivshmem driver (kipc_ivshmem.ko) on QEMU's ivshmem-plain
# device.  vm/demo attaches a 1 MiB host file (/dev/shm) as the device's
# memory, writes a greeting into it before the guest boots and checks the
# guest's answer from the host after the guest is gone.
say "ivshmem: QEMU's ivshmem-plain device is /dev/ivshmem0, with myshm's interface"
grep -q '^kipc_ivshmem ' /proc/modules || run modprobe kipc_ivshmem
run ls -l /dev/ivshmem0
want 1048576 cat /sys/class/misc/ivshmem0/size
say "The host wrote into the device's memory before this guest booted"
want "Hello from the host" kipc-ivshmem -d /dev/ivshmem0 read 0
say "myshm's programs run unchanged on it: mmap, read(), MYSHM_GET_SIZE"
run write_test /dev/ivshmem0
say "The guest answers; the host reads it after the guest is gone"
run kipc-ivshmem -d /dev/ivshmem0 write 0 "Hello from the guest $(uname -r)"
