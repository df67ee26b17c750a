/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t jsonout_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; min = 0x80; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; min = 0x800; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

struct json_object *jsonout_string(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	struct json_object *o;
	char *buf;
	size_t i = 0, k = 0;

	for (i = 0; i < len;) {
		size_t l = jsonout_utf8_len(u + i, len - i);

		if (l == 0)
			break;
		i += l;
	}
	if (i == len)
		return json_object_new_string_len(s, (int)len);
	buf = malloc(len * 3 + 1);
	if (!buf)
		return NULL;
	for (i = 0; i < len;) {
		size_t l = jsonout_utf8_len(u + i, len - i);

		if (l == 0) {
			memcpy(buf + k, "\xef\xbf\xbd", 3);	/* U+FFFD */
			k += 3;
			i++;
		} else {
			memcpy(buf + k, s + i, l);
			k += l;
			i += l;
		}
	}
	o = json_object_new_string_len(buf, (int)k);
	free(buf);
	return o;
}

struct json_object *jsonout_cstring(const char *s)
{
	return jsonout_string(s, strlen(s));
}

struct json_object *jsonout_time(time_t t)
{
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_object_new_string("?");
	return json_object_new_string(buf);
}

struct json_object *jsonout_weight(uint32_t milli)
{
	char buf[32];

	if (milli % 1000 == 0)
		return json_object_new_int64(milli / 1000);
	snprintf(buf, sizeof(buf), "%u.%03u", milli / 1000, milli % 1000);
	for (size_t n = strlen(buf); buf[n - 1] == '0'; n--)
		buf[n - 1] = '\0';
	return json_object_new_double_s(milli / 1000.0, buf);
}

struct json_object *jsonout_double(double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (strchr(buf, '.')) {
		size_t n = strlen(buf);

		while (buf[n - 1] == '0')
			buf[--n] = '\0';
		if (buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	return json_object_new_double_s(v, buf);
}

void jsonout_add(struct json_object *obj, const char *key, struct json_object *value)
{
	if (!obj) {
		json_object_put(value);
		return;
	}
	json_object_object_add(obj, key, value);
}

int jsonout_print(FILE *f, struct json_object *obj)
{
	const char *s;
	int r = -1;

	if (!obj)
		return -1;
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && fputs(s, f) >= 0 && fputc('\n', f) != EOF)
		r = 0;
	json_object_put(obj);
	return r;
}
