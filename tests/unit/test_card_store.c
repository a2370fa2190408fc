/* test_card_store.c: the card's memory file (card/tc_card_store).
 *
 * The tear test cuts power at every byte of a commit of a 2 KiB image, from
 * either slot, and checks that each reopen gives exactly the old image or the
 * new. Files live in $TC_STORE_TEST_DIR, else /dev/shm (tmpfs: fsync is
 * cheap), else /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tc_card_store.h"
#include "tc_error.h"

#define IMG 2048u

struct fixture {
	char dir[256];
	char path[300];
	uint8_t old_img[IMG], new_img[IMG], third[IMG];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *base = getenv("TC_STORE_TEST_DIR");

	if (!f)
		return -1;
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(f->dir, sizeof(f->dir), "%s/tc-store-XXXXXX", base);
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/card.mem", f->dir);
	for (size_t i = 0; i < IMG; i++) {
		f->old_img[i] = (uint8_t)(i * 7 + 1);
		f->new_img[i] = (uint8_t)(i * 13 + 5);
		f->third[i] = (uint8_t)(i ^ 0x5A);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char tmp[400];

	(void)unlink(f->path);
	snprintf(tmp, sizeof(tmp), "%s.other", f->path);
	(void)unlink(tmp);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void put_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static uint8_t *get_file(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *p;
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	assert_int_equal(stat(path, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	*n = fread(p, 1, (size_t)st.st_size, fp);
	assert_int_equal(*n, (size_t)st.st_size);
	fclose(fp);
	return p;
}

static struct tc_store *open_ok(const char *path)
{
	struct tc_store *s = NULL;
	char err[TC_STORE_ERR_LEN];
	int rc = tc_store_open_msg(path, IMG, &s, err, sizeof(err));

	if (rc != TC_OK)
		fail_msg("open %s: %s (%s)", path, tc_errname(rc), err);
	return s;
}

static void test_card_store_blank_and_commit(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[IMG + 1], zero[IMG] = {0}; /* + 1: the over-long read below */
	struct tc_store *s = open_ok(f->path);
	size_t n;

	assert_int_equal(tc_store_size(s), IMG);
	assert_int_equal(tc_store_seq(s), 1);
	assert_int_equal(tc_store_read(s, buf, IMG), TC_OK);
	assert_memory_equal(buf, zero, IMG);
	free(get_file(f->path, &n));
	assert_int_equal(n, tc_store_file_len(IMG));

	assert_int_equal(tc_store_commit(s, f->old_img, IMG), TC_OK);
	assert_int_equal(tc_store_commit(s, f->new_img, 100), TC_OK); /* rest zero */
	assert_int_equal(tc_store_read(s, buf, IMG + 1), TC_E_OVERFLOW);
	assert_int_equal(tc_store_commit(s, f->new_img, IMG + 1), TC_E_OVERFLOW);
	assert_int_equal(tc_store_bytes_written(s), 2 * (2 * TC_STORE_HDR_LEN + IMG));
	tc_store_close(s);

	s = open_ok(f->path);
	assert_int_equal(tc_store_seq(s), 3);
	assert_int_equal(tc_store_read(s, buf, IMG), TC_OK);
	assert_memory_equal(buf, f->new_img, 100);
	assert_memory_equal(buf + 100, zero, IMG - 100);
	for (int i = 0; i < 5; i++)
		assert_int_equal(tc_store_commit(s, i % 2 ? f->old_img : f->third, IMG), TC_OK);
	tc_store_close(s);
	s = open_ok(f->path);
	assert_int_equal(tc_store_seq(s), 8);
	assert_int_equal(tc_store_read(s, buf, IMG), TC_OK);
	assert_memory_equal(buf, f->third, IMG);
	tc_store_close(s);
	tc_store_close(NULL);
}

/* Reopen and say which image the file holds: 0 old, 1 new, fail otherwise. */
static int reopen_which(struct fixture *f, const uint8_t *old_img, const uint8_t *new_img)
{
	uint8_t buf[IMG];
	struct tc_store *s = open_ok(f->path);
	int which = -1;

	assert_int_equal(tc_store_read(s, buf, IMG), TC_OK);
	if (memcmp(buf, old_img, IMG) == 0)
		which = 0;
	else if (memcmp(buf, new_img, IMG) == 0)
		which = 1;
	tc_store_close(s);
	if (which < 0)
		fail_msg("reopen gives neither the old image nor the new");
	return which;
}

/* A file holding old_img, committed `commits` times (1 or 2: slot B or A). */
static uint8_t *old_state(struct fixture *f, int commits, size_t *flen)
{
	struct tc_store *s;

	(void)unlink(f->path);
	s = open_ok(f->path);
	for (int i = 0; i < commits; i++)
		assert_int_equal(tc_store_commit(s, f->old_img, IMG), TC_OK);
	tc_store_close(s);
	return get_file(f->path, flen);
}

/* Cut power after t bytes of the commit old -> new, for every t. */
static void tear_every_byte(struct fixture *f, int commits)
{
	size_t flen;
	uint8_t *old_file = old_state(f, commits, &flen), buf[IMG];
	long total, t, first_new = -1;
	struct tc_store *s = open_ok(f->path);

	assert_int_equal(tc_store_commit(s, f->new_img, IMG), TC_OK);
	total = tc_store_bytes_written(s);
	tc_store_close(s);
	assert_true(total >= (long)IMG);
	for (t = 0; t <= total; t++) {
		put_file(f->path, old_file, flen);
		s = open_ok(f->path);
		tc_store_tear_after(s, t);
		int rc = tc_store_commit(s, f->new_img, IMG);
		assert_int_equal(rc, t < total ? TC_E_TORN : TC_OK);
		assert_int_equal(tc_store_bytes_written(s), t);
		if (rc == TC_E_TORN) { /* dead until reopened */
			assert_int_equal(tc_store_read(s, buf, IMG), TC_E_TORN);
			assert_int_equal(tc_store_commit(s, f->old_img, IMG), TC_E_TORN);
		}
		tc_store_close(s);
		int which = reopen_which(f, f->old_img, f->new_img);
		if (which && first_new < 0)
			first_new = t;
		/* Once new, always new: a longer write never brings the old back. */
		if (first_new >= 0)
			assert_int_equal(which, 1);
		/* And the store goes on: a commit after the cut sticks. */
		if (t % 64 == 0 || t + 40 > total) {
			s = open_ok(f->path);
			assert_int_equal(tc_store_commit(s, f->third, IMG), TC_OK);
			tc_store_close(s);
			assert_int_equal(reopen_which(f, f->third, f->third), 0);
		}
	}
	/* The new image appears only once the header's check value is whole
	 * (or its missing tail happens to be zero bytes). */
	assert_true(first_new > total - 32);
	assert_true(first_new <= total);
	print_message("%ld tear points, the new image from byte %ld on\n", total + 1, first_new);
	free(old_file);
}

static void test_card_store_tear_every_byte_from_a(void **state)
{
	tear_every_byte(*state, 2); /* old in slot A, commit into B */
}

static void test_card_store_tear_every_byte_from_b(void **state)
{
	tear_every_byte(*state, 1); /* old in slot B, commit into A */
}

/* A cut, then a cut in the next attempt: still old (or new/third at the ends). */
static void test_card_store_tear_twice(void **state)
{
	struct fixture *f = *state;
	size_t flen;
	uint8_t *old_file = old_state(f, 1, &flen), buf[IMG];
	const long total = 2 * TC_STORE_HDR_LEN + IMG;

	for (long t1 = 0; t1 < total; t1 += 97) {
		for (long t2 = 0; t2 < total; t2 += 89) {
			put_file(f->path, old_file, flen);
			struct tc_store *s = open_ok(f->path);
			tc_store_tear_after(s, t1);
			assert_int_equal(tc_store_commit(s, f->new_img, IMG), TC_E_TORN);
			tc_store_close(s);
			s = open_ok(f->path);
			tc_store_tear_after(s, t2);
			assert_int_equal(tc_store_commit(s, f->third, IMG), TC_E_TORN);
			tc_store_close(s);
			s = open_ok(f->path);
			assert_int_equal(tc_store_read(s, buf, IMG), TC_OK);
			assert_memory_equal(buf, f->old_img, IMG);
			tc_store_close(s);
		}
	}
	free(old_file);
}

static void expect_open_error(const char *path, int want, const char *needle)
{
	struct tc_store *s = (struct tc_store *)&s; /* must be set to NULL */
	char err[TC_STORE_ERR_LEN];
	int rc = tc_store_open_msg(path, IMG, &s, err, sizeof(err));

	if (rc != want)
		fail_msg("open: %s, expected %s (%s)", tc_errname(rc), tc_errname(want), err);
	assert_null(s);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not say '%s'", err, needle);
	assert_non_null(strstr(err, path));
}

static void test_card_store_garbage_files(void **state)
{
	struct fixture *f = *state;
	size_t flen;
	uint8_t *good = old_state(f, 1, &flen), *bad = malloc(flen + 100);

	assert_non_null(bad);
	put_file(f->path, good, 0);
	expect_open_error(f->path, TC_E_FORMAT, "not a card memory file");
	put_file(f->path, good, flen - 1); /* truncated */
	expect_open_error(f->path, TC_E_FORMAT, "truncated");
	for (size_t i = 0; i < flen + 100; i++)
		bad[i] = (uint8_t)(i * 31 + 7);
	put_file(f->path, bad, flen + 100);
	expect_open_error(f->path, TC_E_FORMAT, "not a card memory file");
	put_file(f->path, bad, flen);
	expect_open_error(f->path, TC_E_FORMAT, "no slot header");
	memset(bad, 0, flen);
	put_file(f->path, bad, flen);
	expect_open_error(f->path, TC_E_FORMAT, "no slot header");

	/* Both slots damaged (slot A holds the blank image, B the old one). */
	memcpy(bad, good, flen);
	bad[TC_STORE_HDR_LEN + 5] ^= 1;
	bad[flen - 1] ^= 1;
	put_file(f->path, bad, flen);
	expect_open_error(f->path, TC_E_CORRUPT, "check value wrong");
	/* Slot B's header copied over slot A's: same sequence twice, or wrong slot. */
	memcpy(bad, good, flen);
	memcpy(bad, good + TC_STORE_HDR_LEN + IMG, TC_STORE_HDR_LEN);
	bad[TC_STORE_HDR_LEN + IMG + 20] ^= 1;
	put_file(f->path, bad, flen);
	expect_open_error(f->path, TC_E_CORRUPT, "header of the other slot");

	/* A directory where the file should be. */
	(void)unlink(f->path);
	assert_int_equal(mkdir(f->path, 0700), 0);
	struct tc_store *s = NULL;
	assert_int_not_equal(tc_store_open(f->path, IMG, &s), TC_OK);
	assert_null(s);
	assert_int_equal(rmdir(f->path), 0);

	/* The newer slot damaged: the older one is still a whole image. */
	memcpy(bad, good, flen);
	bad[flen - 10] ^= 0x80;
	put_file(f->path, bad, flen);
	s = open_ok(f->path);
	assert_int_equal(tc_store_seq(s), 1);
	tc_store_close(s);
	free(good);
	free(bad);
}

static void test_card_store_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct tc_store *s = NULL;
	uint8_t img[16];

	assert_int_equal(tc_store_open(f->path, 0, &s), TC_E_INVAL);
	assert_int_equal(tc_store_open(f->path, TC_STORE_MAX_SIZE + 1, &s), TC_E_INVAL);
	assert_int_equal(tc_store_open("", IMG, &s), TC_E_INVAL);
	assert_int_equal(tc_store_open(f->path, IMG, NULL), TC_E_INVAL);
	assert_int_equal(tc_store_open("/nonexistent-dir/x/card.mem", IMG, &s), TC_E_IO);
	assert_int_equal(tc_store_parse(NULL, 0, 16, img, NULL, NULL, NULL, 0), TC_E_FORMAT);
	assert_int_equal(tc_store_parse(img, 16, 0, img, NULL, NULL, NULL, 0), TC_E_INVAL);
	s = open_ok(f->path);
	assert_int_equal(tc_store_commit(s, NULL, 4), TC_E_INVAL);
	assert_int_equal(tc_store_read(s, NULL, 4), TC_E_INVAL);
	assert_int_equal(tc_store_commit(s, NULL, 0), TC_OK); /* all zero */
	tc_store_close(s);
}

/* A path without a directory: created in the working directory. */
static void test_card_store_relative_path(void **state)
{
	struct fixture *f = *state;
	char cwd[512];
	struct tc_store *s;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	s = open_ok("card.mem");
	assert_int_equal(tc_store_commit(s, f->old_img, IMG), TC_OK);
	tc_store_close(s);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(reopen_which(f, f->old_img, f->new_img), 0);
}

/* A second process cannot open a memory that is in use. */
static void test_card_store_locked(void **state)
{
	struct fixture *f = *state;
	struct tc_store *s = open_ok(f->path);
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct tc_store *c = NULL;
		_exit(tc_store_open(f->path, IMG, &c) == TC_E_STATE ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	tc_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_card_store_blank_and_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_card_store_tear_every_byte_from_a, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_card_store_tear_every_byte_from_b, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_card_store_tear_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_card_store_garbage_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_card_store_bad_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_card_store_relative_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_card_store_locked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
