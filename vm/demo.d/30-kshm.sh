# Part 30: kshm - named shared memory (kshm.ko + libkipc's kshm_* calls).
say "kshm: processes share memory by name, like xv6's shm_open/trunc/map/close"
grep -q '^kshm ' /proc/modules || run modprobe kshm
run ls -l /dev/kshm
run sh -c 'cd /sys/module/kshm/parameters && grep . max_objects max_pages max_per_process protected_names'
say "shmtest: 4 children stamp their own quarter of an 8 KiB object and check each other's"
run shmtest foo 8192 4
say "The object died with its last user: nothing is left"
run kshm ls | tee /tmp/kshm-ls.out
if grep -q '^foo ' /tmp/kshm-ls.out; then
	echo "demo: foo is still listed" >&2
	exit 1
fi
