/*
 * calstore_admin.c - administration of a store, for caldavctl: the
 * consistency check, Berkeley DB's file verification, hot backup and
 * restore (catastrophic recovery of the copy).
 *
 * Backup is Berkeley DB's own hot backup (DB_ENV->backup, the engine of
 * db_hotbackup): with the store open and other processes writing, every
 * database file is copied page by page through the shared cache, then
 * every log file, while log removal is held off, so the copy holds each
 * database as it was at some moment during the copy plus the log of
 * everything committed since.  Catastrophic recovery (DB_RECOVER_FATAL)
 * replays that log over the copied databases and so turns the copy into a
 * consistent store as of the end of the backup; restore runs it on the
 * restored files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <apr_strings.h>

#include "calcore_log.h"
#include "calstore_private.h"

/* Berkeley DB's DB_REGISTER file (see calstore_env.c). */
#define ADMIN_REGISTER_FILE "__db.register"

/* Copy buffer. */
#define ADMIN_COPY_CHUNK (1024 * 1024)

/* Every database file of a store, in the order of calstore_schema.h. */
static const char *const admin_db_files[] = {
    CALSTORE_DB_META, CALSTORE_DB_NODES, CALSTORE_DB_BYID,
    CALSTORE_DB_BODIES, CALSTORE_DB_PROPS, CALSTORE_DB_CALOBJ,
    CALSTORE_DB_UID, CALSTORE_DB_TR, CALSTORE_DB_TREDGE,
    CALSTORE_DB_CHANGES, CALSTORE_DB_CHINDEX, NULL
};

/* ---- the consistency check --------------------------------------------- */

apr_status_t calstore_check(calstore_t *st, apr_pool_t *pool)
{
    return calstore__check(st, pool);
}

/* ---- files of a store --------------------------------------------------- */

/* Is 'name' one of the files a store directory holds: a database (*.db),
 * a log file (log.NNNNNNNNNN) or a region / registry file (__db.*)? */
static int store_file(const char *name)
{
    apr_size_t n = strlen(name);

    return (n > 3 && strcmp(name + n - 3, ".db") == 0)
           || strncmp(name, "log.", 4) == 0
           || strncmp(name, "__db.", 5) == 0;
}

/* Is 'name' a file that a backup carries: a database or a log file? */
static int backup_file(const char *name)
{
    apr_size_t n = strlen(name);

    return (n > 3 && strcmp(name + n - 3, ".db") == 0
            && strncmp(name, "__db", 4) != 0)
           || strncmp(name, "log.", 4) == 0;
}

/* Look at directory 'dir': *exists, *any (it holds some entry) and
 * *stores (it holds a file of a store).  APR_SUCCESS, or errno. */
static apr_status_t dir_state(const char *dir, int *exists, int *any,
                              int *stores)
{
    struct dirent *de;
    DIR *d;

    *exists = *any = *stores = 0;
    if ((d = opendir(dir)) == NULL) {
        return errno == ENOENT ? APR_SUCCESS : errno;
    }
    *exists = 1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        *any = 1;
        if (store_file(de->d_name)) {
            *stores = 1;
        }
    }
    closedir(d);
    return APR_SUCCESS;
}

/* Remove the files of a store from 'dir' (nothing else). */
static apr_status_t remove_store_files(const char *dir, apr_pool_t *pool)
{
    struct dirent *de;
    apr_status_t rv = APR_SUCCESS;
    DIR *d;

    if ((d = opendir(dir)) == NULL) {
        return errno;
    }
    while ((de = readdir(d)) != NULL) {
        const char *path;

        if (!store_file(de->d_name)) {
            continue;
        }
        path = apr_pstrcat(pool, dir, "/", de->d_name, NULL);
        if (unlink(path) != 0 && errno != ENOENT) {
            rv = errno;
            calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot remove %s",
                        path);
            break;
        }
    }
    closedir(d);
    return rv;
}

/* fsync 'path' (a file or a directory). */
static apr_status_t sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    apr_status_t rv = APR_SUCCESS;

    if (fd < 0) {
        return errno;
    }
    if (fsync(fd) != 0) {
        rv = errno;
    }
    close(fd);
    if (rv != APR_SUCCESS) {
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot flush %s", path);
    }
    return rv;
}

/* fsync every regular file in 'dir', then 'dir' itself. */
static apr_status_t sync_dir(const char *dir, apr_pool_t *pool)
{
    struct dirent *de;
    struct stat sb;
    apr_status_t rv = APR_SUCCESS;
    DIR *d;

    if ((d = opendir(dir)) == NULL) {
        return errno;
    }
    while (rv == APR_SUCCESS && (de = readdir(d)) != NULL) {
        const char *path = apr_pstrcat(pool, dir, "/", de->d_name, NULL);

        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            rv = sync_path(path);
        }
    }
    closedir(d);
    return rv == APR_SUCCESS ? sync_path(dir) : rv;
}

/* Copy regular file 'from' to the new file 'to' (mode 0600), flushed. */
static apr_status_t copy_file(const char *from, const char *to)
{
    apr_status_t rv = APR_SUCCESS;
    char *buf;
    ssize_t n;
    int in, out;

    if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
        rv = errno;
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot read %s", from);
        return rv;
    }
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        rv = errno;
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot create %s", to);
        close(in);
        return rv;
    }
    if ((buf = malloc(ADMIN_COPY_CHUNK)) == NULL) {
        close(in);
        close(out);
        return APR_ENOMEM;
    }
    while ((n = read(in, buf, ADMIN_COPY_CHUNK)) != 0) {
        char *p = buf;

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rv = errno;
            break;
        }
        while (n > 0) {
            ssize_t w = write(out, p, (size_t)n);

            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                rv = errno;
                break;
            }
            p += w;
            n -= w;
        }
        if (rv != APR_SUCCESS) {
            break;
        }
    }
    free(buf);
    if (rv == APR_SUCCESS && fsync(out) != 0) {
        rv = errno;
    }
    if (close(out) != 0 && rv == APR_SUCCESS) {
        rv = errno;
    }
    close(in);
    if (rv != APR_SUCCESS) {
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot copy %s to %s",
                    from, to);
    }
    return rv;
}

/* Do 'a' and 'b' name the same existing directory? */
static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev
           && sa.st_ino == sb.st_ino;
}

/* ---- in use? ------------------------------------------------------------ */

/* Every process with the environment open holds an fcntl lock on its slot
 * of the DB_REGISTER registry for as long as it has it open.  The locks
 * are read from /proc/locks rather than probed with F_GETLK: probing needs
 * a descriptor of the registry, and closing it would drop every fcntl lock
 * this process holds on the file, i.e. unregister this process if it has
 * the store open.  Returns 1 (in use), 0 (not), -1 (/proc/locks not
 * readable). */
static int in_use_proc(const struct stat *reg)
{
    char line[512];
    FILE *f = fopen("/proc/locks", "r");
    int busy = 0;

    if (f == NULL) {
        return -1;
    }
    while (!busy && fgets(line, sizeof(line), f) != NULL) {
        char *tok, *save = NULL, *prev = NULL;

        /* "1: POSIX  ADVISORY  WRITE 1234 fe:00:10954103 0 EOF", waiters
         * with "->" after the number; the device is hex major:minor */
        for (tok = strtok_r(line, " \t\n", &save); tok;
             tok = strtok_r(NULL, " \t\n", &save)) {
            unsigned int maj, min;
            unsigned long ino;
            long pid;
            char *end;

            if (sscanf(tok, "%x:%x:%lu", &maj, &min, &ino) == 3
                && strchr(tok, ':') != strrchr(tok, ':')) {
                pid = prev ? strtol(prev, &end, 10) : 0;
                if ((ino_t)ino == reg->st_ino && maj == major(reg->st_dev)
                    && min == minor(reg->st_dev) && pid != (long)getpid()) {
                    busy = 1;
                }
                break;
            }
            prev = tok;
        }
    }
    fclose(f);
    return busy;
}

int calstore_in_use(const char *dir)
{
    char path[4096];
    struct flock fl;
    struct stat reg;
    int fd, busy;

    if (snprintf(path, sizeof(path), "%s/%s", dir, ADMIN_REGISTER_FILE)
        >= (int)sizeof(path)) {
        return 1;
    }
    if (stat(path, &reg) != 0) {
        return errno == ENOENT ? 0 : 1;
    }
    if ((busy = in_use_proc(&reg)) >= 0) {
        return busy;
    }
    /* No /proc: probe.  (Closing the descriptor drops this process's own
     * registration: the caller must not have the store open.) */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return 1;
    }
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    busy = fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type != F_UNLCK;
    close(fd);
    return busy;
}

/* ---- db_verify ---------------------------------------------------------- */

/* Berkeley DB's messages for handles opened here ('pfx' says what). */
static void admin_errcall(const DB_ENV *env, const char *pfx,
                          const char *msg)
{
    calcore_log(CALCORE_LOG_ERR, CALSTORE_EDB, "calstore: %s: %s",
                pfx ? pfx : "", msg);
}

apr_status_t calstore_verify_files(const char *dir, apr_pool_t *pool)
{
    struct stat sb;
    int i, bad = 0, ret;
    DB *db;

    if (calstore_in_use(dir)) {
        return CALSTORE_EBUSY;
    }
    for (i = 0; admin_db_files[i] != NULL; i++) {
        const char *path = apr_pstrcat(pool, dir, "/", admin_db_files[i],
                                       NULL);

        if (stat(path, &sb) != 0) {
            calcore_log(CALCORE_LOG_ERR, errno, "calstore: verify: %s",
                        path);
            return errno;
        }
        if ((ret = db_create(&db, NULL, 0)) != 0) {
            return ret > 0 ? ret : CALSTORE_EDB;
        }
        db->set_errcall(db, admin_errcall);
        db->set_errpfx(db, apr_pstrcat(pool, "verify ", admin_db_files[i],
                                       NULL));
        /* DB->verify frees the handle, whatever it returns */
        ret = db->verify(db, path, NULL, NULL, 0);
        if (ret != 0) {
            calcore_log(CALCORE_LOG_ERR, CALSTORE_ECORRUPT,
                        "calstore: verify: %s failed: %s", admin_db_files[i],
                        db_strerror(ret));
            bad++;
        }
    }
    return bad ? CALSTORE_ECORRUPT : APR_SUCCESS;
}

/* ---- backup and restore ------------------------------------------------- */

apr_status_t calstore_backup(calstore_t *st, const char *target,
                             int replace, apr_pool_t *pool)
{
    int exists, any, stores, ret;
    apr_status_t rv;

    if (st->env == NULL || target == NULL || *target == '\0') {
        return CALSTORE_EINVAL;
    }
    if (same_dir(st->dir, target)) {
        return CALSTORE_EINVAL;
    }
    if ((rv = dir_state(target, &exists, &any, &stores)) != APR_SUCCESS) {
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: backup: cannot read %s",
                    target);
        return rv;
    }
    if (stores) {
        if (!replace) {
            return CALSTORE_EEXIST;
        }
        if (calstore_in_use(target)) {
            return CALSTORE_EBUSY;
        }
        if ((rv = remove_store_files(target, pool)) != APR_SUCCESS) {
            return rv;
        }
    }
    if (!exists && mkdir(target, 0700) != 0 && errno != EEXIST) {
        rv = errno;
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: backup: cannot create "
                    "%s", target);
        return rv;
    }
    /* A checkpoint first keeps the log the copy needs short. */
    ret = st->env->txn_checkpoint(st->env, 0, 0, 0);
    if (ret != 0) {
        return calstore__db_status(st, ret, "checkpoint before a backup");
    }
    ret = st->env->backup(st->env, target, 0);
    if (ret != 0) {
        return calstore__db_status(st, ret, "hot backup");
    }
    return sync_dir(target, pool);
}

apr_status_t calstore_restore(const char *backup, const char *dir,
                              int replace, apr_pool_t *pool)
{
    int exists, any, stores, ret, t_ret, copied = 0;
    struct dirent *de;
    struct stat sb;
    apr_status_t rv = APR_SUCCESS;
    DB_ENV *env;
    DIR *d;

    if (backup == NULL || dir == NULL || *backup == '\0' || *dir == '\0'
        || same_dir(backup, dir)
        || stat(apr_pstrcat(pool, backup, "/" CALSTORE_DB_META, NULL),
                &sb) != 0) {
        return CALSTORE_EINVAL;
    }
    if ((rv = dir_state(dir, &exists, &any, &stores)) != APR_SUCCESS) {
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: restore: cannot read %s",
                    dir);
        return rv;
    }
    if (exists && calstore_in_use(dir)) {
        return CALSTORE_EBUSY;
    }
    if (any && !replace) {
        return CALSTORE_EEXIST;
    }
    if (stores && (rv = remove_store_files(dir, pool)) != APR_SUCCESS) {
        return rv;
    }
    if (!exists && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rv = errno;
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot create %s", dir);
        return rv;
    }

    if ((d = opendir(backup)) == NULL) {
        rv = errno;
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot read %s", backup);
        return rv;
    }
    while (rv == APR_SUCCESS && (de = readdir(d)) != NULL) {
        const char *from, *to;

        if (!backup_file(de->d_name)) {
            continue;
        }
        from = apr_pstrcat(pool, backup, "/", de->d_name, NULL);
        to = apr_pstrcat(pool, dir, "/", de->d_name, NULL);
        if (stat(from, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            continue;
        }
        rv = copy_file(from, to);
        copied++;
    }
    closedir(d);
    if (rv == APR_SUCCESS) {
        rv = sync_path(dir);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }

    /* Catastrophic recovery in a private environment: it leaves no region
     * files behind, so the first calstore_open() creates them with the
     * store's own sizes. */
    if ((ret = db_env_create(&env, 0)) != 0) {
        return ret > 0 ? ret : CALSTORE_EDB;
    }
    env->set_errcall(env, admin_errcall);
    env->set_errpfx(env, apr_pstrcat(pool, "restore ", dir, NULL));
    ret = env->open(env, dir, DB_CREATE | DB_INIT_LOG | DB_INIT_MPOOL
                              | DB_INIT_TXN | DB_INIT_LOCK | DB_PRIVATE
                              | DB_RECOVER_FATAL, 0600);
    if (ret == 0) {
        ret = env->txn_checkpoint(env, 0, 0, DB_FORCE);
    }
    t_ret = env->close(env, 0);
    if (ret == 0) {
        ret = t_ret;
    }
    if (ret != 0) {
        calcore_log(CALCORE_LOG_ERR, CALSTORE_EDB,
                    "calstore: recovery of the restored store in %s failed: "
                    "%s", dir, db_strerror(ret));
        return CALSTORE_EDB;
    }
    calcore_log(CALCORE_LOG_INFO, APR_SUCCESS,
                "calstore: restored %d files from %s into %s", copied,
                backup, dir);
    return sync_dir(dir, pool);
}
