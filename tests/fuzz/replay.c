/*++
/* NAME
/*	replay 1
/* SUMMARY
/*	run a fuzz target over saved inputs, without libFuzzer
/* SYNOPSIS
/*	replay_TARGET DIRECTORY|FILE...
/* DESCRIPTION
/*	Linked with one tests/fuzz/fuzz_TARGET.c, this feeds every file of
/*	each DIRECTORY to LLVMFuzzerTestOneInput(), once, and prints one
/*	"ok" line with the count. make check and make check-asan run it
/*	over tests/fuzz/corpus/TARGET: the seeds, and every input that
/*	once crashed a target (kept there as crash-*), so that a fixed
/*	crash stays fixed in the ordinary test suites, sanitizers included.
/*	A crash or a sanitizer report ends the process: the suite fails.
/*--*/
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

/* replay_file - one input; -1 if it cannot be read */
static int
replay_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *data;
	long len;

	/* Exactly len bytes, as libFuzzer gives: ASan sees a read past them. */
	if (fp == NULL || fseek(fp, 0, SEEK_END) < 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) < 0 ||
	    (data = malloc(len ? (size_t)len : 1)) == NULL) {
		if (fp)
			fclose(fp);
		return -1;
	}
	if (fread(data, 1, (size_t)len, fp) != (size_t)len) {
		free(data);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(data, (size_t)len);
	free(data);
	return 0;
}

/* replay_dir - every regular file of a directory; the count, -1 on error */
static int
replay_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int n = 0, len;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOTDIR && replay_file(dir) == 0 ? 1 : -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		len = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (len < 0 || (size_t)len >= sizeof(path) || replay_file(path) < 0) {
			fprintf(stderr, "replay: cannot read %s/%s\n", dir,
			    de->d_name);
			closedir(d);
			return -1;
		}
		n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	int i, n, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIRECTORY|FILE...\n", name);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if ((n = replay_dir(argv[i])) < 0) {
			printf("not ok - fuzz/%s: cannot read %s\n", name, argv[i]);
			return 1;
		}
		total += n;
	}
	printf("%s - fuzz/%s: %d saved inputs replayed\n", total ? "ok" :
	    "not ok", name, total);
	return total ? 0 : 1;
}
