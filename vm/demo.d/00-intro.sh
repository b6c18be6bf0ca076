# Part 0: the guest and kipc's modules.
say "A throwaway $(uname -r) guest with kipc's modules"
run uname -r
run ls /kipc/modules
for ko in /kipc/modules/*.ko; do
	m=$(basename "$ko" .ko)
	run modprobe "$m"
	grep -q "^$m " /proc/modules
done
run sh -c "grep -E '^(message_slot|myshm|kshm|kipc_ivshmem) ' /proc/modules"
