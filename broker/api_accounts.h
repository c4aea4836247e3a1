/*
 * api_accounts - accounts, keys and the ledger:
 *   POST   /v1/accounts             sign up (open, or admin token; config)
 *   GET    /v1/account              balance and usage
 *   GET    /v1/account/ledger       ledger entries, newest first, paged
 *   POST   /v1/account/keys         another API key (shown once)
 *   GET    /v1/account/keys         the account's keys (ids and prefixes)
 *   DELETE /v1/account/keys/{id}    revoke a key, effective at once
 * SPDX-License-Identifier: MIT
 */
#ifndef API_ACCOUNTS_H
#define API_ACCOUNTS_H

#include "broker.h"

struct evhttp_request;

void api_accounts_signup(broker_t *b, struct evhttp_request *req,
                         const char *tail);
void api_accounts_get(broker_t *b, struct evhttp_request *req,
                      const char *tail);
void api_accounts_ledger(broker_t *b, struct evhttp_request *req,
                         const char *tail);
void api_accounts_key_create(broker_t *b, struct evhttp_request *req,
                             const char *tail);
void api_accounts_keys(broker_t *b, struct evhttp_request *req,
                       const char *tail);
void api_accounts_key_revoke(broker_t *b, struct evhttp_request *req,
                             const char *tail);

#endif
