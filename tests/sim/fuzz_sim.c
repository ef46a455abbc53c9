/*++
/* NAME
/*	fuzz_sim 1
/* SUMMARY
/*	libFuzzer target: schedules for the simulation of authguard-policyd
/* DESCRIPTION
/*	Each input is a schedule, three bytes per step (sim 3): the daemon
/*	starts, runs the steps, then every deadline passes and it stops.
/*	A broken invariant aborts; ASan and UBSan watch the whole run.
/*	Refusals decided by the gate wait a fixed 2 s (refusal_delay), so
/*	that a schedule replays the same way.
/*	Seeds and the schedules of fixed defects are in
/*	tests/fuzz/corpus/sim (written by tests/sim/seeds.py).
/*--*/
#include <stddef.h>

#include "sim.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* LLVMFuzzerTestOneInput - one schedule */
int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	size_t i;

	sim_begin("refusal_delay = 2s\n");	/* fixed: a schedule replays */
	for (i = 0; i < len && i / 3 < SIM_STEPS; i += 3)
		sim_step(data[i], i + 1 < len ? data[i + 1] : 0,
		    i + 2 < len ? data[i + 2] : 0);
	sim_end();
	return 0;
}
