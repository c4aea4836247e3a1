/*
 * validate - turns a submission body into a checked job request.
 * Every field is checked against the configuration (model catalog,
 * priced durations, aspect ratios, prompt length); each problem is a 400
 * naming its field. validate_submission() reports the first (the /v1
 * error names one param), validate_submission_all() every one (the task
 * API's errors[]). Nothing is trusted: the body may be any bytes.
 * SPDX-License-Identifier: MIT
 */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <stddef.h>

#include <jansson.h>

#include "api_error.h"
#include "rl_config.h"

#define VALIDATE_MAX_URL 2048
#define VALIDATE_MAX_HOST 253  /* bytes of a URL's host: a DNS name's most */
#define VALIDATE_MAX_ERRORS 16 /* errors listed; more are only counted */

/* The problems of one submission, in the order the fields are checked. */
typedef struct {
    api_error_t items[VALIDATE_MAX_ERRORS]; /* the first n (at most the
                                               cap) */
    size_t n;                               /* problems found */
    api_error_t spare;                      /* written past the cap */
} validate_errors_t;

typedef struct {
    const rl_model_conf_t *model; /* borrowed from the config */
    const char *model_name;       /* borrowed from the config: the name
                                     the body used, the model's own or
                                     one of its aliases */
    char *prompt;                 /* owned */
    int duration_s;               /* a duration the model is priced for */
    long price;                   /* credits for that duration */
    const char *aspect_ratio;     /* borrowed from the config */
    char *webhook_url;            /* owned, NULL when none */
    char *negative_prompt;        /* owned, NULL when none */
    char *image_url;              /* owned, NULL when none */
} submission_t;

/* Parses and checks body. Returns 0 with *out filled (release it with
 * submission_release), or -1 with *err filled and *out empty. */
int validate_submission(const rl_config_t *cfg, const char *body, size_t len,
                        submission_t *out, api_error_t *err);

/* Like validate_submission, but appends every problem to errs (which
 * the caller initialises with n = 0 and may have added problems of its
 * own to). Returns 0 with *out filled when errs holds none, else -1 with
 * *out empty. */
int validate_submission_all(const rl_config_t *cfg, const char *body,
                            size_t len, submission_t *out,
                            validate_errors_t *errs);

/* Like validate_submission_all, for a body already parsed (root is
 * borrowed; any JSON value, only an object can pass). */
int validate_submission_json(const rl_config_t *cfg, json_t *root,
                             submission_t *out, validate_errors_t *errs);

/* The slot for one more problem in errs (the spare one past the cap);
 * the caller fills it. Never NULL. */
api_error_t *validate_errors_add(validate_errors_t *errs);

/* Frees what a submission owns. Safe on a zeroed submission. */
void submission_release(submission_t *s);

/* Checks that url is an absolute http(s) URL of at most VALIDATE_MAX_URL
 * bytes with a host (valid UTF-8, at most VALIDATE_MAX_HOST bytes) and no
 * credentials. Returns 0, or -1 with the reason in why. */
int validate_http_url(const char *url, const char **why);

/* Parses a duration given as "5s", "5" or 5. Returns seconds (1..3600)
 * or -1. */
int validate_duration(const void *json_value);

#endif
