/*++
/* NAME
/*	sim 3h
/* SUMMARY
/*	deterministic simulation of authguard-policyd
/*--*/
#ifndef AUTHGUARD_SIM_H
#define AUTHGUARD_SIM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_CONNS	4		/* smtpd connections at once */
#define SIM_REQS	64		/* AUTH requests per run */
#define SIM_STEPS	256		/* schedule steps per fuzz input */
#define SIM_LOG_KEEP	64		/* the daemon's last lines, kept */
#define SIM_ACCT_LIMIT	3		/* account_fail_limit = 3/15m */
#define SIM_ADDR_LIMIT	5		/* ip_fail_limit = 5/15m */

enum sim_mech { SIM_PLAIN, SIM_LOGIN, SIM_CRAM };
/* How Dovecot answers (sim_dovecot). */
enum sim_dove { SD_OK, SD_FAIL, SD_FAIL_USER, SD_TEMPFAIL, SD_DISABLED,
	SD_CONT, SD_MISMATCH };
/* How auth-userdb answers (sim_userdb). */
enum sim_udb { SU_USER, SU_NOTFOUND, SU_FAIL };

/* Users (sim_users[]: "v", "W", "u@example.org") and client addresses. */
extern const char *const sim_users[];
extern const char *const sim_addrs[];

/* Their indexes, as the tests name them. */
#define V	0		/* sim_users[0]: v */
#define W	1		/* W */
#define U	2		/* u@example.org */
#define A0	0		/* sim_addrs[0]: 192.0.2.1 */
#define A1	1		/* sim_addrs[1]: 198.51.100.7 */
#define A2	2		/* sim_addrs[2]: 2001:db8::5 */

void	 sim_begin(const char *);
void	 sim_accounts(const char *);
void	 sim_accounts_break(void);
void	 sim_end(void);
void	 sim_step(unsigned, unsigned, unsigned);

int	 sim_open(void);
void	 sim_close(int);
int	 sim_auth(int, enum sim_mech, int, int, int, int);
int	 sim_auth_lower(int, enum sim_mech, int, int, int, int);
int	 sim_auth_unoffered(int, int, int);
void	 sim_cont(int, int);
void	 sim_cancel(int);
void	 sim_hostile(int, int);
void	 sim_dovecot(int, enum sim_dove);
void	 sim_userdb(int, enum sim_udb);
void	 sim_admin(int, int, int);
void	 sim_advance(uint64_t);
void	 sim_dovecot_state(int);
void	 sim_userdb_hangup(void);
const char *sim_control(const char *);
void	 sim_dovecot_line(const char *);
unsigned sim_dovecot_id(int);
void	 sim_dovecot_mute(int);
int	 sim_userdb_owed(void);
void	 sim_dovecot_hello(const char *);
unsigned sim_dovecot_connects(void);
unsigned sim_dovecot_cancels(void);
void	 sim_cancel_any(int);
const char *sim_conn_mechs(int);
void	 sim_password(const char *);
void	 sim_userdb_line(const char *);
unsigned sim_userdb_id(int);
void	 sim_userdb_forget(unsigned);
unsigned sim_userdb_connects(void);
unsigned sim_userdb_lookups(void);
const char *sim_control_raw(const char *, size_t);
unsigned sim_log_count(const char *);
unsigned sim_address_failures(int);
int	 sim_address_locked(int);

const char *sim_reply(int);
int	 sim_answered(int);
int	 sim_conn_open(int);
int	 sim_forwarded(int);
unsigned sim_dovecot_creds(int);
int	 sim_dovecot_owed(void);
const char *sim_log_find(const char *);
unsigned sim_account_failures(int);
int	 sim_account_locked(int);
int	 sim_has(const char *, const char *);

#endif
