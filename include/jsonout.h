/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jsonout: owns turning spamwrath's values into json-c objects and one-line JSON text.
 * Every string passes through a UTF-8 check: log bytes that are not UTF-8 become U+FFFD.
 * It must never emit invalid JSON or invalid UTF-8, whatever bytes a log line held. */
#ifndef SPAMWRATH_JSONOUT_H
#define SPAMWRATH_JSONOUT_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct json_object *jsonout_string(const char *s, size_t len);
struct json_object *jsonout_cstring(const char *s);
/* "2026-11-20T08:00:01Z" */
struct json_object *jsonout_time(time_t t);
/* A weight in thousandths, printed exactly ("0.2", "1"). */
struct json_object *jsonout_weight(uint32_t milli);
/* A double printed with the given number of decimals at most. */
struct json_object *jsonout_double(double v, int decimals);

/* Adds key: value to obj, dropping value if obj is NULL. */
void jsonout_add(struct json_object *obj, const char *key, struct json_object *value);

/* Writes obj as one line and releases it. 0 or -1. */
int jsonout_print(FILE *f, struct json_object *obj);

#endif
