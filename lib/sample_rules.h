/* sample_rules.h -- the numeric fields' rules, shared by sample_scan.c and
 * the legacy tree check in sample.c. Private to lib/. */
#ifndef PERFLOAD_SAMPLE_RULES_H
#define PERFLOAD_SAMPLE_RULES_H

#include "sample.h"

/* Largest byte count we accept: beyond 2^53 a double no longer holds an
 * integer exactly, and no machine has that much memory. */
#define SAMPLE_BYTES_MAX 9007199254740992.0

/* A numeric field's rule: name, range, and whether it must be an integer. */
struct sample_number_rule {
    const char *name;
    size_t name_len;
    double min, max;
    int integer;
};

/* Indexed by enum sample_number. */
extern const struct sample_number_rule sample_number_rules[SAMPLE_NUMBERS];

#endif
