/* test_ccid_udev.c: the udev rules of udev/ (installed as
 * 92-tokencard-ccid.rules), parsed with the syntax of udev(7) and evaluated
 * against a few devices: a CCID reader gets pcscd's group and mode 0660,
 * every other device is left alone, and no rule makes a node accessible to
 * others. The checker is itself shown to refuse broken rules. udevadm's own
 * check, where the machine has it, is the ctest udev.udevadm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fnmatch.h>

#define RULES_NAME "92-tokencard-ccid.rules"
#define MAX_RULES  64
#define MAX_PAIRS  16
#define MAX_TEXT   8192

struct pair {
	char key[32], attr[64], op[3], value[256];
};

struct rule {
	unsigned npairs, line;
	struct pair p[MAX_PAIRS];
};

struct rules {
	unsigned n;
	struct rule r[MAX_RULES];
	char err[200];
};

/* Keys of udev(7): may it match, may it assign, does it take {attr}. */
static const struct {
	const char *name;
	int match, assign, attr;
} keys[] = {
    {"ACTION", 1, 0, 0},  {"DEVPATH", 1, 0, 0}, {"KERNEL", 1, 0, 0},    {"KERNELS", 1, 0, 0},
    {"NAME", 1, 1, 0},    {"SYMLINK", 1, 1, 0}, {"SUBSYSTEM", 1, 0, 0}, {"SUBSYSTEMS", 1, 0, 0},
    {"DRIVER", 1, 0, 0},  {"DRIVERS", 1, 0, 0}, {"ATTR", 1, 1, 1},      {"ATTRS", 1, 0, 1},
    {"ENV", 1, 1, 1},     {"TAG", 1, 1, 0},     {"TAGS", 1, 0, 0},      {"TEST", 1, 0, 2},
    {"PROGRAM", 1, 0, 0}, {"RESULT", 1, 0, 0},  {"OWNER", 0, 1, 0},     {"GROUP", 0, 1, 0},
    {"MODE", 0, 1, 0},    {"LABEL", 0, 1, 0},   {"GOTO", 0, 1, 0},      {"IMPORT", 0, 1, 1},
    {"RUN", 0, 1, 2},     {"OPTIONS", 0, 1, 0},
};

static int fail_at(struct rules *rs, unsigned line, const char *what)
{
	snprintf(rs->err, sizeof(rs->err), "line %u: %s", line, what);
	return -1;
}

/* One KEY[{attr}]OP"value" at *s; advances *s. */
static int parse_pair(struct rules *rs, unsigned line, const char **s, struct pair *p)
{
	const char *c = *s;
	size_t k = 0, a = 0, v = 0;
	memset(p, 0, sizeof(*p));
	while ((*c >= 'A' && *c <= 'Z') || *c == '_')
		if (k + 1 < sizeof(p->key))
			p->key[k++] = *c++;
		else
			return fail_at(rs, line, "key too long");
	if (k == 0)
		return fail_at(rs, line, "expected a key");
	if (*c == '{') {
		for (c++; *c && *c != '}'; c++)
			if (a + 1 < sizeof(p->attr))
				p->attr[a++] = *c;
		if (*c++ != '}' || a == 0)
			return fail_at(rs, line, "bad {attribute}");
	}
	static const char *const ops[] = {"==", "!=", "+=", "-=", ":=", "="};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && !p->op[0]; i++)
		if (strncmp(c, ops[i], strlen(ops[i])) == 0)
			strcpy(p->op, ops[i]);
	if (!p->op[0])
		return fail_at(rs, line, "expected an operator");
	c += strlen(p->op);
	if (*c++ != '"')
		return fail_at(rs, line, "value not in double quotes");
	for (; *c && *c != '"'; c++)
		if (v + 1 < sizeof(p->value))
			p->value[v++] = *c;
	if (*c++ != '"')
		return fail_at(rs, line, "unterminated value");
	*s = c;
	return 0;
}

static int check_key(struct rules *rs, unsigned line, const struct pair *p)
{
	int is_match = strcmp(p->op, "==") == 0 || strcmp(p->op, "!=") == 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, p->key) != 0)
			continue;
		if ((keys[i].attr == 1 && !p->attr[0]) || (keys[i].attr == 0 && p->attr[0]))
			return fail_at(rs, line, "{attribute} wrong for this key");
		if (is_match ? !keys[i].match : !keys[i].assign)
			return fail_at(rs, line, "operator not allowed for this key");
		if ((!strcmp(p->key, "LABEL") || !strcmp(p->key, "GOTO")) && strcmp(p->op, "="))
			return fail_at(rs, line, "LABEL and GOTO take =");
		return 0;
	}
	return fail_at(rs, line, "unknown key");
}

static int parse_line(struct rules *rs, unsigned line, const char *s)
{
	struct rule *r = &rs->r[rs->n];
	memset(r, 0, sizeof(*r));
	r->line = line;
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			break;
		if (r->npairs == MAX_PAIRS)
			return fail_at(rs, line, "too many keys");
		if (parse_pair(rs, line, &s, &r->p[r->npairs]) != 0)
			return -1;
		if (check_key(rs, line, &r->p[r->npairs]) != 0)
			return -1;
		r->npairs++;
		if (*s && *s != ',' && *s != ' ' && *s != '\t')
			return fail_at(rs, line, "keys must be separated by commas");
	}
	if (r->npairs > 0)
		rs->n++;
	return 0;
}

static int parse_rules(const char *text, struct rules *rs)
{
	char line[1024];
	unsigned no = 0;
	memset(rs, 0, sizeof(*rs));
	while (*text) {
		size_t n = strcspn(text, "\n");
		no++;
		if (n >= sizeof(line))
			return fail_at(rs, no, "line too long");
		memcpy(line, text, n);
		line[n] = '\0';
		text += n + (text[n] == '\n');
		const char *s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\0')
			continue;
		if (line[n ? n - 1 : 0] == '\\')
			return fail_at(rs, no, "continuation lines not used here");
		if (rs->n == MAX_RULES)
			return fail_at(rs, no, "too many rules");
		if (parse_line(rs, no, s) != 0)
			return -1;
	}
	return 0;
}

static const struct pair *find(const struct rule *r, const char *key, const char *attr)
{
	for (unsigned i = 0; i < r->npairs; i++)
		if (!strcmp(r->p[i].key, key) && (!attr || !strcmp(r->p[i].attr, attr)))
			return &r->p[i];
	return NULL;
}

/* Policy: labels, modes, and access only for CCID-class devices. */
static int check_policy(struct rules *rs)
{
	for (unsigned i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->r[i];
		const struct pair *g = find(r, "GOTO", NULL), *m = find(r, "MODE", NULL);
		if (g) {
			unsigned found = 0;
			for (unsigned j = i + 1; j < rs->n; j++) {
				const struct pair *l = find(&rs->r[j], "LABEL", NULL);
				found += l && !strcmp(l->value, g->value);
			}
			if (found != 1)
				return fail_at(rs, r->line,
				               "GOTO without exactly one LABEL after it");
		}
		if (m) {
			char *end;
			unsigned long mode = strtoul(m->value, &end, 8);
			if (*end || strlen(m->value) != 4 || (mode & 07u) || mode > 07777)
				return fail_at(rs, r->line,
				               "MODE must be 4 octal digits, none for others");
		}
		if (find(r, "OWNER", NULL) || find(r, "RUN", NULL) || find(r, "SYMLINK", NULL))
			return fail_at(rs, r->line, "OWNER, RUN, SYMLINK are not expected here");
		if (find(r, "GROUP", NULL) || m) {
			const struct pair *c = find(r, "ENV", "ID_USB_INTERFACES");
			if (!c || strcmp(c->op, "==") || !strstr(c->value, ":0b"))
				return fail_at(rs, r->line,
				               "GROUP/MODE set without a CCID-class match");
		}
		const struct pair *grp = find(r, "GROUP", NULL);
		if (grp &&
		    (!grp->value[0] || strchr(grp->value, '@') || !strcmp(grp->value, "root")))
			return fail_at(rs, r->line, "GROUP empty, unconfigured or root");
	}
	return 0;
}

/* ---- evaluation against a device ------------------------------------------ */

struct device {
	const char *action, *subsystem, *devtype, *interfaces;
};

struct outcome {
	char group[256], mode[256];
};

static int glob_any(const char *patterns, const char *value)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", patterns);
	for (char *save = NULL, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
		if (fnmatch(t, value, 0) == 0)
			return 1;
	return 0;
}

static const char *dev_value(const struct device *d, const struct pair *p)
{
	if (!strcmp(p->key, "ACTION"))
		return d->action;
	if (!strcmp(p->key, "SUBSYSTEM"))
		return d->subsystem;
	if (!strcmp(p->key, "ENV") && !strcmp(p->attr, "DEVTYPE"))
		return d->devtype;
	if (!strcmp(p->key, "ENV") && !strcmp(p->attr, "ID_USB_INTERFACES"))
		return d->interfaces ? d->interfaces : "";
	fail_msg("the test's evaluator does not know %s{%s}: extend it", p->key, p->attr);
	return "";
}

static void evaluate(const struct rules *rs, const struct device *d, struct outcome *o)
{
	const char *jump = NULL;
	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->r[i];
		const struct pair *l = find(r, "LABEL", NULL);
		if (jump && !(l && !strcmp(l->value, jump)))
			continue;
		jump = NULL;
		int ok = 1;
		for (unsigned k = 0; k < r->npairs && ok; k++) {
			const struct pair *p = &r->p[k];
			if (strcmp(p->op, "==") && strcmp(p->op, "!="))
				continue;
			ok = glob_any(p->value, dev_value(d, p)) == (p->op[0] == '=');
		}
		for (unsigned k = 0; k < r->npairs && ok; k++) {
			const struct pair *p = &r->p[k];
			if (!strcmp(p->key, "GROUP"))
				snprintf(o->group, sizeof(o->group), "%s", p->value);
			else if (!strcmp(p->key, "MODE"))
				snprintf(o->mode, sizeof(o->mode), "%s", p->value);
			else if (!strcmp(p->key, "GOTO"))
				jump = p->value;
		}
	}
}

/* ---- tests ------------------------------------------------------------------ */

static char *read_rules(void)
{
	const char *dir = getenv("TC_BUILD_DIR");
	char path[1024];
	static char text[MAX_TEXT];
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/udev/%s", dir, RULES_NAME);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static void test_ccid_udev_syntax_and_policy(void **state)
{
	static struct rules rs;
	(void)state;
	if (parse_rules(read_rules(), &rs) != 0 || check_policy(&rs) != 0)
		fail_msg("%s: %s", RULES_NAME, rs.err);
	assert_true(rs.n >= 3);
	/* named like the CCID driver's rules: NN-name.rules, after 50-udev-default */
	assert_int_equal(fnmatch("[0-9][0-9]-*.rules", RULES_NAME, 0), 0);
	assert_true(strncmp(RULES_NAME, "60", 2) > 0);
}

static void test_ccid_udev_devices(void **state)
{
	static struct rules rs;
	static const struct {
		struct device d;
		const char *group, *mode;
	} cases[] = {
	    {{"add", "usb", "usb_device", ":0b0000:"}, "pcscd", "0660"},
	    {{"change", "usb", "usb_device", ":0b0000:"}, "pcscd", "0660"},
	    {{"add", "usb", "usb_device", ":030101:0b0000:ff0000:"}, "pcscd", "0660"},
	    {{"add", "usb", "usb_device", ":0b0001:"}, "pcscd", "0660"}, /* ICCD */
	    {{"add", "usb", "usb_device", ":030000:"}, "", ""},
	    {{"add", "usb", "usb_device", ":080650:"}, "", ""},
	    {{"add", "usb", "usb_device", NULL}, "", ""},
	    {{"add", "usb", "usb_interface", ":0b0000:"}, "", ""},
	    {{"add", "tty", "", ":0b0000:"}, "", ""},
	    {{"remove", "usb", "usb_device", ":0b0000:"}, "", ""},
	};
	(void)state;
	if (parse_rules(read_rules(), &rs) != 0)
		fail_msg("%s", rs.err);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;
		evaluate(&rs, &cases[i].d, &o);
		const char *want = cases[i].group;
		/* the group is configurable: any non-empty one for readers */
		int group_ok = want[0] ? o.group[0] != '\0' : o.group[0] == '\0';
		if (!group_ok || strcmp(o.mode, cases[i].mode) != 0)
			fail_msg("%s %s %s %s: group \"%s\" mode \"%s\", wanted %s %s",
			         cases[i].d.action, cases[i].d.subsystem, cases[i].d.devtype,
			         cases[i].d.interfaces ? cases[i].d.interfaces : "-", o.group,
			         o.mode, want[0] ? "a group" : "none", cases[i].mode);
	}
}

static void test_ccid_udev_checker_refuses(void **state)
{
	static const char *const bad[] = {
	    "SUBSYSTEM==usb, GROUP=\"pcscd\"\n",
	    "SUBSYSTEM=\"usb\"\n",
	    "SUBSYSTEMX==\"usb\"\n",
	    "ENV==\"x\"\n",
	    "SUBSYSTEM==\"usb\" GROUP=\"pcscd\n",
	    "SUBSYSTEM!=\"usb\", GOTO=\"nowhere\"\n",
	    "ENV{ID_USB_INTERFACES}==\"*:0b????:*\", GROUP=\"pcscd\", MODE=\"0666\"\n",
	    "ENV{ID_USB_INTERFACES}==\"*:0b????:*\", GROUP=\"pcscd\", MODE=\"0664\"\n",
	    "ENV{ID_USB_INTERFACES}==\"*:0b????:*\", GROUP=\"pcscd\", MODE=\"666\"\n",
	    "SUBSYSTEM==\"usb\", GROUP=\"pcscd\", MODE=\"0660\"\n",
	    "ENV{ID_USB_INTERFACES}==\"*:0b????:*\", GROUP=\"@TC_PCSCD_GROUP@\"\n",
	    "ENV{ID_USB_INTERFACES}==\"*:0b????:*\", OWNER=\"pcscd\"\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static struct rules rs;
		if (parse_rules(bad[i], &rs) == 0 && check_policy(&rs) == 0)
			fail_msg("checker accepted: %s", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ccid_udev_syntax_and_policy),
	    cmocka_unit_test(test_ccid_udev_devices),
	    cmocka_unit_test(test_ccid_udev_checker_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
