# Part 10: message slots (message_slot.ko) with the course's sender and reader.
say "Message slots: channels on a character device that keep their last message"
grep -q '^message_slot ' /proc/modules || run modprobe message_slot
rm -f /dev/slot0
run mknod /dev/slot0 c 235 0
run message_sender /dev/slot0 1 "Hello from kipc"
run message_reader /dev/slot0 1; echo
say "Reading does not consume; other channels are separate"
run message_reader /dev/slot0 1; echo
run message_sender /dev/slot0 1048577 "a channel id above 2^20"
run message_reader /dev/slot0 1048577; echo
say "Censorship (4-argument form): bytes 3, 7, 11, ... become '#'"
run message_sender /dev/slot0 2 1 "censorship at work"
run message_reader /dev/slot0 2; echo
say "Errors come from the driver, with exit status 1"
run sh -c 'message_reader /dev/slot0 3 || echo "(exit status $?)"'
run sh -c 'message_sender /dev/slot0 0 "channel 0" || echo "(exit status $?)"'
say "Per-slot counts (debugfs)"
run cat /sys/kernel/debug/message_slot/slots
rm -f /dev/slot0
