# Part 20: myshm - kernel buffers that unrelated processes map and share.
say "myshm: /dev/myshm is 4 MiB of kernel memory that processes mmap"
modprobe myshm
run ls -l /dev/myshm
run cat /sys/class/misc/myshm/size

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
run rmmod myshm
run modprobe myshm 'buffers="myshm:4M,mmapdemo:4K:Hello from kernel space!"'
run ls -l /dev/myshm /dev/mmapdemo
run test_mmap

say "Open and close logging through dynamic debug (quiet by default)"
run rmmod myshm
run modprobe myshm dyndbg=+p
run sh -c 'cat /dev/myshm >/dev/null & wait; dmesg | grep "myshm: /dev/myshm: \(open\|closed\)" | tail -2'
run rmmod myshm
