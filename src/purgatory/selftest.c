/*
 * Host self-test of the purgatory's SHA-256: map a (patched) purgatory blob executable in user space,
 * point its region table at the given files' bytes, call verify_regions (SysV ABI, offset in the header
 * at 0x14) and print "<return code> <computed digest hex>". verify_regions touches no privileged state.
 *
 * usage: selftest BLOB MEMSZ [REGION_FILE...]
 * Each region file's size must equal the len already in the blob's table (so the table the loader wrote
 * is what is checked); only the start addresses are replaced by user-space pointers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static unsigned char *slurp(const char *path, long *len) {
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); exit(2); }
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc(*len ? *len : 1);
	if (*len && fread(buf, 1, *len, f) != (size_t)*len) { perror(path); exit(2); }
	fclose(f);
	return buf;
}

int main(int argc, char **argv) {
	if (argc < 3) { fprintf(stderr, "usage: selftest BLOB MEMSZ [REGION_FILE...]\n"); return 2; }
	long blob_len;
	unsigned char *blob = slurp(argv[1], &blob_len);
	size_t memsz = strtoul(argv[2], NULL, 0);
	if (memsz < (size_t)blob_len || argc - 3 > 16) { fprintf(stderr, "bad arguments\n"); return 2; }
	unsigned char *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) { perror("mmap"); return 2; }
	memcpy(mem, blob, blob_len);
	uint64_t *regions = (uint64_t *)(mem + 0x80);
	for (int i = 0; i < argc - 3; i++) {
		long len;
		unsigned char *data = slurp(argv[3 + i], &len);
		if ((uint64_t)len != regions[2 * i + 1]) {
			fprintf(stderr, "region %d: file has %ld bytes, table says %llu\n", i, len,
				(unsigned long long)regions[2 * i + 1]);
			return 2;
		}
		regions[2 * i] = (uint64_t)(uintptr_t)data;
	}
	uint32_t verify_offset;
	memcpy(&verify_offset, mem + 0x14, 4);
	int (*verify)(void) = (int (*)(void))(void *)(mem + verify_offset);
	int rc = verify();
	printf("%d ", rc);
	for (int i = 0; i < 32; i++) printf("%02x", mem[0x60 + i]);
	printf("\n");
	return 0;
}
