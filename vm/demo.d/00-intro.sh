# Part 0: the guest and kipc's modules.
say "A throwaway $(uname -r) guest with kipc's modules"
run uname -r
run ls /kipc/modules
for ko in /kipc/modules/*.ko; do
	[ -e "$ko" ] || continue
	m=$(basename "$ko" .ko)
	run modprobe "$m"
done
run sh -c "grep -E '^(message_slot|myshm|kshm) ' /proc/modules || true"
