# Part 10: message slots (message_slot.ko) with the course's sender and reader.
say "Message slots: channels on a character device that keep their last message"
grep -q '^message_slot ' /proc/modules || run modprobe message_slot
rm -f /dev/slot0
run mknod /dev/slot0 c 235 0
run message_sender /dev/slot0 1 "Hello from kipc"
want "Hello from kipc" message_reader /dev/slot0 1
say "Reading does not consume; other channels are separate"
want "Hello from kipc" message_reader /dev/slot0 1
run message_sender /dev/slot0 1048577 "a channel id above 2^20"
want "a channel id above 2^20" message_reader /dev/slot0 1048577
say "Censorship (4-argument form): bytes 3, 7, 11, ... become '#'"
run message_sender /dev/slot0 2 1 "censorship at work"
want "cen#ors#ip #t w#rk" message_reader /dev/slot0 2
say "Errors come from the driver, with exit status 1"
want "(exit status 1)" sh -c 'message_reader /dev/slot0 3 || echo "(exit status $?)"'
want "(exit status 1)" sh -c 'message_sender /dev/slot0 0 "channel 0" || echo "(exit status $?)"'
say "Per-slot counts (debugfs)"
run cat /sys/kernel/debug/message_slot/slots
rm -f /dev/slot0
