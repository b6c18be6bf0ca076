# Part 20: myshm - kernel buffers that unrelated processes map and share.
say "myshm: /dev/myshm is 4 MiB of kernel memory that processes mmap"
grep -q '^myshm ' /proc/modules || run modprobe myshm
run ls -l /dev/myshm
want 4194304 cat /sys/class/misc/myshm/size

say "Two unrelated processes: a reader waits in the mapping, a writer stores"
msg="hello from process $$ at $(date +%T)"
printf '$ myshm-msg wait "%s" &\n' "$msg"
myshm-msg -t 30 wait "$msg" >/tmp/reader.out &
reader=$!
sleep 0.3
run myshm-msg write "$msg"
wait $reader
sed 's/^/reader got: /' /tmp/reader.out
say "read() shows the same bytes the mapping holds"
run sh -c 'dd if=/dev/myshm bs=48 count=1 2>/dev/null | tr "\0" .; echo'
run write_test

say "Several buffers in one load; the one-page demo buffer starts with a text"
# \x20 is a space: no quotes for modprobe, insmod or the kernel to disagree on
run rmmod myshm
sh_run "modprobe myshm 'buffers=myshm:4M,mmapdemo:4K:Hello\\x20from\\x20kernel\\x20space!'"
run ls -l /dev/myshm /dev/mmapdemo
say "The classic mmap demo, unchanged: it prints what the kernel put in the page"
want "Data read from kernel: Hello from kernel space!
Data written to shared memory." test_mmap

say "Open and close logging through dynamic debug (quiet by default)"
run rmmod myshm
run modprobe myshm dyndbg=+p
run sh -c 'cat /dev/myshm >/dev/null & wait; dmesg | grep -o "myshm: /dev/myshm: \(open\|closed\).*" | tail -2' | tee /tmp/dyndbg.out
grep -q "closed by pid" /tmp/dyndbg.out
run rmmod myshm
