/*
 * cmupdf.c - implementation of cmupdf.h on top of MuPDF 1.21.
 *
 * Every MuPDF call is made inside fz_try/fz_catch in this file. Never
 * `return` from inside fz_try/fz_always (it corrupts MuPDF's exception
 * stack); set a status variable and return after fz_catch.
 */
#include "cmupdf.h"

#include <mupdf/fitz.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* shared state: allocator with cap + locks                                  */

typedef struct {
    pthread_mutex_t locks[FZ_LOCK_MAX];
    _Atomic uint64_t current;
    _Atomic uint64_t peak;
    _Atomic uint64_t failed;
    uint64_t limit;
} cmu_shared;

struct cmu_context {
    fz_context *fz;
    cmu_shared *sh;
    int is_root;
    cmu_log_fn log;
    void *log_user;
    uint64_t warnings, errors;
};

struct cmu_cookie {
    fz_cookie c;
};

struct cmu_document {
    cmu_context *ctx;
    fz_document *doc;
    int encrypted;
};

/* Header in front of every block so realloc/free know the size.
 * 16 bytes keeps max_align_t alignment on x86_64/arm64. */
#define CMU_HDR 16

static int reserve(cmu_shared *sh, uint64_t n)
{
    uint64_t cur = atomic_fetch_add(&sh->current, n) + n;
    if (sh->limit && cur > sh->limit) {
        atomic_fetch_sub(&sh->current, n);
        atomic_fetch_add(&sh->failed, 1);
        return 0;
    }
    uint64_t pk = atomic_load(&sh->peak);
    while (cur > pk && !atomic_compare_exchange_weak(&sh->peak, &pk, cur))
        ;
    return 1;
}

static void *cap_malloc(void *user, size_t size)
{
    cmu_shared *sh = user;
    if (size > SIZE_MAX - CMU_HDR) return NULL;
    if (!reserve(sh, size)) return NULL;
    unsigned char *p = malloc(size + CMU_HDR);
    if (!p) { atomic_fetch_sub(&sh->current, size); return NULL; }
    memcpy(p, &size, sizeof size);
    return p + CMU_HDR;
}

static void cap_free(void *user, void *ptr)
{
    cmu_shared *sh = user;
    if (!ptr) return;
    unsigned char *p = (unsigned char *)ptr - CMU_HDR;
    size_t size;
    memcpy(&size, p, sizeof size);
    atomic_fetch_sub(&sh->current, size);
    free(p);
}

static void *cap_realloc(void *user, void *old, size_t size)
{
    cmu_shared *sh = user;
    if (!old) return cap_malloc(user, size);
    if (size == 0) { cap_free(user, old); return NULL; }
    if (size > SIZE_MAX - CMU_HDR) return NULL;
    unsigned char *p = (unsigned char *)old - CMU_HDR;
    size_t oldsize;
    memcpy(&oldsize, p, sizeof oldsize);
    if (size > oldsize && !reserve(sh, size - oldsize)) return NULL;
    unsigned char *q = realloc(p, size + CMU_HDR);
    if (!q) {
        if (size > oldsize) atomic_fetch_sub(&sh->current, size - oldsize);
        return NULL;
    }
    if (size < oldsize) atomic_fetch_sub(&sh->current, oldsize - size);
    memcpy(q, &size, sizeof size);
    return q + CMU_HDR;
}

static void lock_fn(void *user, int n) { pthread_mutex_lock(&((cmu_shared *)user)->locks[n]); }
static void unlock_fn(void *user, int n) { pthread_mutex_unlock(&((cmu_shared *)user)->locks[n]); }

/* ------------------------------------------------------------------------ */
/* errors and logging                                                        */

static void set_err(cmu_error *err, int code, const char *msg)
{
    if (!err) return;
    err->code = code;
    if (!msg) msg = "";
    snprintf(err->message, sizeof err->message, "%s", msg);
}

static void clear_err(cmu_error *err) { set_err(err, CMU_OK, ""); }

static int map_fz_code(int fzcode)
{
    switch (fzcode) {
    case FZ_ERROR_MEMORY: return CMU_ERR_MEMORY;
    case FZ_ERROR_SYNTAX: return CMU_ERR_SYNTAX;
    case FZ_ERROR_ABORT: return CMU_ERR_ABORTED;
    case FZ_ERROR_TRYLATER: return CMU_ERR_TRYLATER;
    default: return CMU_ERR_GENERIC;
    }
}

/* Thread-local snapshot of the cap's failure counter, taken at the start of
 * each public call (MARK_FAILS). Third-party code (FreeType, ...) reports an
 * allocation failure as a generic error ("FT_New_Memory_Face(): out of
 * memory"); if the cap refused an allocation during the call we report
 * CMU_ERR_MEMORY instead. */
static _Thread_local uint64_t tl_failed_at_start;
#define MARK_FAILS(sh) (tl_failed_at_start = atomic_load(&(sh)->failed))

/* Call from inside fz_catch only. */
static int caught_sh(fz_context *fz, cmu_shared *sh, cmu_error *err)
{
    int code = map_fz_code(fz_caught(fz));
    const char *msg = fz_caught_message(fz);
    if (code == CMU_ERR_GENERIC && msg && strstr(msg, "cannot find document handler"))
        code = CMU_ERR_UNSUPPORTED;
    if (code == CMU_ERR_GENERIC && sh && atomic_load(&sh->failed) > tl_failed_at_start)
        code = CMU_ERR_MEMORY;
    set_err(err, code, msg);
    return code;
}
#define caught(fz, err) caught_sh((fz), NULL, (err))

static void warn_cb(void *user, const char *msg)
{
    cmu_context *c = user;
    c->warnings++;
    if (c->log) c->log(c->log_user, 1, msg);
}

static void error_cb(void *user, const char *msg)
{
    cmu_context *c = user;
    c->errors++;
    if (c->log) c->log(c->log_user, 2, msg);
}

static void install_callbacks(cmu_context *c)
{
    fz_set_warning_callback(c->fz, warn_cb, c);
    fz_set_error_callback(c->fz, error_cb, c);
}

/* ------------------------------------------------------------------------ */
/* context                                                                   */

static cmu_context *cmu_context_new_impl(size_t memory_limit, size_t store_limit, cmu_error *err);
cmu_context *cmu_context_new(size_t memory_limit, size_t store_limit, cmu_error *err)
{
    cmu_error dummy;
    return cmu_context_new_impl(memory_limit, store_limit, (err ? err : &dummy));
}

static cmu_context *cmu_context_new_impl(size_t memory_limit, size_t store_limit, cmu_error *err)
{
    clear_err(err);
    /* Below ~300 KiB fz_new_context itself fails, and it prints to stderr
     * before any callback can be installed, so refuse early. */
    if (memory_limit && memory_limit < (1u << 20)) {
        set_err(err, CMU_ERR_ARGUMENT, "memory_limit must be 0 or >= 1 MiB");
        return NULL;
    }
    cmu_context *c = calloc(1, sizeof *c);
    cmu_shared *sh = calloc(1, sizeof *sh);
    if (!c || !sh) {
        free(c); free(sh);
        set_err(err, CMU_ERR_MEMORY, "out of memory");
        return NULL;
    }
    /* Recursive mutexes are REQUIRED with a memory cap: when an allocation made
     * by FreeType (under FZ_LOCK_FREETYPE) fails, MuPDF scavenges the store,
     * which may drop a font and take FZ_LOCK_FREETYPE again on the same thread
     * (fz_drop_font). With plain mutexes that self-deadlocks (seen in testing). */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    for (int i = 0; i < FZ_LOCK_MAX; i++) pthread_mutex_init(&sh->locks[i], &attr);
    pthread_mutexattr_destroy(&attr);
    sh->limit = memory_limit;
    fz_alloc_context alloc = { sh, cap_malloc, cap_realloc, cap_free };
    fz_locks_context locks = { sh, lock_fn, unlock_fn };
    if (store_limit == 0) store_limit = FZ_STORE_DEFAULT;
    if (memory_limit && store_limit > memory_limit / 2) store_limit = memory_limit / 2;
    /* fz_new_context copies alloc/locks; returns NULL (no throw) on failure. */
    c->fz = fz_new_context(&alloc, &locks, store_limit);
    if (!c->fz) {
        for (int i = 0; i < FZ_LOCK_MAX; i++) pthread_mutex_destroy(&sh->locks[i]);
        free(sh); free(c);
        set_err(err, CMU_ERR_MEMORY, "cannot create MuPDF context (memory limit too small?)");
        return NULL;
    }
    c->sh = sh;
    c->is_root = 1;
    install_callbacks(c);
    int ok = 1;
    fz_try(c->fz)
        fz_register_document_handlers(c->fz);
    fz_catch(c->fz) {
        caught(c->fz, err);
        ok = 0;
    }
    if (!ok) { cmu_context_free(c); return NULL; }
    return c;
}

static cmu_context *cmu_context_clone_impl(cmu_context *parent, cmu_error *err);
cmu_context *cmu_context_clone(cmu_context *parent, cmu_error *err)
{
    cmu_error dummy;
    return cmu_context_clone_impl(parent, (err ? err : &dummy));
}

static cmu_context *cmu_context_clone_impl(cmu_context *parent, cmu_error *err)
{
    clear_err(err);
    if (!parent) { set_err(err, CMU_ERR_ARGUMENT, "NULL context"); return NULL; }
    cmu_context *c = calloc(1, sizeof *c);
    if (!c) { set_err(err, CMU_ERR_MEMORY, "out of memory"); return NULL; }
    c->fz = fz_clone_context(parent->fz);
    if (!c->fz) {
        free(c);
        set_err(err, CMU_ERR_MEMORY, "fz_clone_context failed");
        return NULL;
    }
    c->sh = parent->sh;
    c->log = parent->log;
    c->log_user = parent->log_user;
    install_callbacks(c);
    return c;
}

void cmu_context_free(cmu_context *c)
{
    if (!c) return;
    /* fz_drop_context flushes buffered warnings -> still goes to our callback */
    fz_drop_context(c->fz);
    if (c->is_root) {
        for (int i = 0; i < FZ_LOCK_MAX; i++) pthread_mutex_destroy(&c->sh->locks[i]);
        free(c->sh);
    }
    free(c);
}

void cmu_context_stats(cmu_context *c, cmu_memory_stats *out)
{
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!c) return;
    fz_flush_warnings(c->fz);
    out->current_bytes = atomic_load(&c->sh->current);
    out->peak_bytes = atomic_load(&c->sh->peak);
    out->limit_bytes = c->sh->limit;
    out->failed_allocs = atomic_load(&c->sh->failed);
    out->warnings = c->warnings;
    out->errors = c->errors;
}

void cmu_context_empty_caches(cmu_context *c)
{
    if (!c) return;
    fz_empty_store(c->fz);          /* never throw */
    fz_purge_glyph_cache(c->fz);
}

void cmu_context_set_log(cmu_context *c, cmu_log_fn fn, void *user)
{
    if (!c) return;
    c->log = fn;
    c->log_user = user;
}

/* ------------------------------------------------------------------------ */
/* cookie                                                                    */

cmu_cookie *cmu_cookie_new(void) { return calloc(1, sizeof(cmu_cookie)); }
void cmu_cookie_free(cmu_cookie *k) { free(k); }
void cmu_cookie_reset(cmu_cookie *k) { if (k) memset(&k->c, 0, sizeof k->c); }
void cmu_cookie_abort(cmu_cookie *k)
{
    /* fz_cookie.abort is a plain int polled by MuPDF; a relaxed atomic store
     * through a volatile-qualified lvalue is what MuPDF itself expects. */
    if (k) __atomic_store_n(&k->c.abort, 1, __ATOMIC_RELEASE);
}
int32_t cmu_cookie_progress(const cmu_cookie *k) { return k ? k->c.progress : 0; }
int32_t cmu_cookie_errors(const cmu_cookie *k) { return k ? k->c.errors : 0; }

static int cookie_aborted(cmu_cookie *k)
{
    return k && __atomic_load_n(&k->c.abort, __ATOMIC_ACQUIRE);
}

/* The outcome of running a page through a device, after fz_catch: a page index past the end, or
 * a cookie aborted while MuPDF tolerated it, is a failure even when nothing was thrown. */
static int page_run_status(int status, int out_of_range, cmu_cookie *cookie, cmu_error *err)
{
    if (status == CMU_OK && out_of_range) {
        status = CMU_ERR_ARGUMENT;
        set_err(err, status, "page index out of range");
    }
    if (status == CMU_OK && cookie_aborted(cookie)) {
        status = CMU_ERR_ABORTED;
        set_err(err, status, "aborted by cookie");
    }
    return status;
}

/* ------------------------------------------------------------------------ */
/* documents                                                                 */

/* Takes ownership of doc (drops it on failure). */
static cmu_document *finish_open(cmu_context *c, fz_document *doc, const char *password,
                                 cmu_error *err)
{
    fz_context *fz = c->fz;
    MARK_FAILS(c->sh);
    int needs = 0, auth = 0, status = CMU_OK;
    fz_var(needs);
    fz_var(auth);
    fz_var(status);
    fz_try(fz) {
        needs = fz_needs_password(fz, doc);
        if (needs && password && *password)
            auth = fz_authenticate_password(fz, doc, password);
    }
    fz_catch(fz) {
        status = caught_sh(fz, c->sh, err);
    }
    if (status == CMU_OK && needs && !auth) {
        if (password && *password) {
            status = CMU_ERR_WRONG_PASSWORD;
            set_err(err, status, "wrong password");
        } else {
            status = CMU_ERR_NEEDS_PASSWORD;
            set_err(err, status, "document is encrypted and needs a password");
        }
    }
    if (status != CMU_OK) {
        fz_drop_document(fz, doc);
        return NULL;
    }
    cmu_document *d = calloc(1, sizeof *d);
    if (!d) {
        fz_drop_document(fz, doc);
        set_err(err, CMU_ERR_MEMORY, "out of memory");
        return NULL;
    }
    d->ctx = c;
    d->doc = doc;
    d->encrypted = needs;
    return d;
}

static cmu_document *cmu_document_open_file_impl(cmu_context *c, const char *path, const char *password,
                                     cmu_error *err);
cmu_document *cmu_document_open_file(cmu_context *c, const char *path, const char *password,
                                     cmu_error *err)
{
    cmu_error dummy;
    return cmu_document_open_file_impl(c, path, password, (err ? err : &dummy));
}

static cmu_document *cmu_document_open_file_impl(cmu_context *c, const char *path, const char *password,
                                     cmu_error *err)
{
    clear_err(err);
    if (!c || !path) { set_err(err, CMU_ERR_ARGUMENT, "NULL argument"); return NULL; }
    fz_context *fz = c->fz;
    MARK_FAILS(c->sh);
    fz_document *doc = NULL;
    int status = CMU_OK;
    fz_try(fz)
        doc = fz_open_document(fz, path);
    fz_catch(fz)
        status = caught_sh(fz, c->sh, err);
    if (status != CMU_OK) return NULL;
    return finish_open(c, doc, password, err);
}

static cmu_document *cmu_document_open_file_as_impl(cmu_context *c, const char *path, const char *magic,
                                                    const char *password, cmu_error *err);
cmu_document *cmu_document_open_file_as(cmu_context *c, const char *path, const char *magic,
                                        const char *password, cmu_error *err)
{
    cmu_error dummy;
    return cmu_document_open_file_as_impl(c, path, magic, password, (err ? err : &dummy));
}

static cmu_document *cmu_document_open_file_as_impl(cmu_context *c, const char *path, const char *magic,
                                                    const char *password, cmu_error *err)
{
    clear_err(err);
    if (!c || !path || !magic) { set_err(err, CMU_ERR_ARGUMENT, "NULL argument"); return NULL; }
    fz_context *fz = c->fz;
    MARK_FAILS(c->sh);
    fz_document *doc = NULL;
    fz_stream *stm = NULL;
    int status = CMU_OK;
    fz_var(stm);
    fz_try(fz) {
        stm = fz_open_file(fz, path);
        doc = fz_open_document_with_stream(fz, magic, stm);
    }
    fz_always(fz)
        fz_drop_stream(fz, stm);         /* document keeps its own ref */
    fz_catch(fz)
        status = caught_sh(fz, c->sh, err);
    if (status != CMU_OK) return NULL;
    return finish_open(c, doc, password, err);
}

static cmu_document *cmu_document_open_memory_impl(cmu_context *c, const uint8_t *data, size_t len,
                                       const char *magic, const char *password,
                                       cmu_error *err);
cmu_document *cmu_document_open_memory(cmu_context *c, const uint8_t *data, size_t len,
                                       const char *magic, const char *password,
                                       cmu_error *err)
{
    cmu_error dummy;
    return cmu_document_open_memory_impl(c, data, len, magic, password, (err ? err : &dummy));
}

static cmu_document *cmu_document_open_memory_impl(cmu_context *c, const uint8_t *data, size_t len,
                                       const char *magic, const char *password,
                                       cmu_error *err)
{
    clear_err(err);
    if (!c || !data) { set_err(err, CMU_ERR_ARGUMENT, "NULL argument"); return NULL; }
    fz_context *fz = c->fz;
    MARK_FAILS(c->sh);
    fz_document *doc = NULL;
    fz_buffer *buf = NULL;
    fz_stream *stm = NULL;
    int status = CMU_OK;
    fz_var(buf);
    fz_var(stm);
    fz_try(fz) {
        buf = fz_new_buffer_from_copied_data(fz, data, len);
        stm = fz_open_buffer(fz, buf);   /* stream keeps its own ref to buf */
        doc = fz_open_document_with_stream(fz, magic ? magic : "application/pdf", stm);
    }
    fz_always(fz) {
        fz_drop_stream(fz, stm);         /* document keeps its own ref */
        fz_drop_buffer(fz, buf);
    }
    fz_catch(fz)
        status = caught_sh(fz, c->sh, err);
    if (status != CMU_OK) return NULL;
    return finish_open(c, doc, password, err);
}

void cmu_document_free(cmu_document *d)
{
    if (!d) return;
    fz_drop_document(d->ctx->fz, d->doc);   /* never throws */
    free(d);
}

static int32_t cmu_document_page_count_impl(cmu_document *d, cmu_error *err);
int32_t cmu_document_page_count(cmu_document *d, cmu_error *err)
{
    cmu_error dummy;
    return cmu_document_page_count_impl(d, (err ? err : &dummy));
}

static int32_t cmu_document_page_count_impl(cmu_document *d, cmu_error *err)
{
    clear_err(err);
    if (!d) { set_err(err, CMU_ERR_ARGUMENT, "NULL document"); return -1; }
    fz_context *fz = d->ctx->fz;
    MARK_FAILS(d->ctx->sh);
    int n = -1;
    fz_try(fz)
        n = fz_count_pages(fz, d->doc);
    fz_catch(fz) {
        caught_sh(fz, d->ctx->sh, err);
        n = -1;
    }
    return n;
}

int32_t cmu_document_was_encrypted(cmu_document *d) { return d ? d->encrypted : 0; }

char *cmu_document_metadata(cmu_document *d, const char *key)
{
    if (!d || !key) return NULL;
    fz_context *fz = d->ctx->fz;
    MARK_FAILS(d->ctx->sh);
    char small[1];
    int n = -1;
    char *res = NULL;
    fz_var(n);
    fz_var(res);
    fz_try(fz)
        n = fz_lookup_metadata(fz, d->doc, key, small, 1);  /* returns needed size incl. NUL */
    fz_catch(fz)
        n = -1;
    if (n <= 0) return NULL;
    res = malloc((size_t)n + 1);
    if (!res) return NULL;
    fz_try(fz)
        fz_lookup_metadata(fz, d->doc, key, res, n + 1);
    fz_catch(fz) {
        free(res);
        res = NULL;
    }
    return res;
}

/* ------------------------------------------------------------------------ */
/* text                                                                      */

static int utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static uint32_t sanitize_cp(int c)
{
    if (c <= 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0xFFFD;
    return (uint32_t)c;
}

static cmu_rect to_rect(fz_rect r) { cmu_rect o = { r.x0, r.y0, r.x1, r.y1 }; return o; }

static float clipped_area(fz_rect r, fz_rect page)
{
    fz_rect i = fz_intersect_rect(r, page);
    if (fz_is_empty_rect(i)) return 0;
    return (i.x1 - i.x0) * (i.y1 - i.y0);
}

/* Pure C, never throws. Returns 0 on malloc failure. */
static int flatten_stext(fz_stext_page *st, fz_rect bounds, cmu_text_page *out)
{
    size_t nb = 0, nl = 0, nc = 0, bytes = 1;
    for (fz_stext_block *b = st->first_block; b; b = b->next) {
        nb++;
        if (b->type != FZ_STEXT_BLOCK_TEXT) continue;
        for (fz_stext_line *l = b->u.t.first_line; l; l = l->next) {
            nl++;
            bytes += 1;
            for (fz_stext_char *ch = l->first_char; ch; ch = ch->next) { nc++; bytes += 4; }
        }
        bytes += 1;
    }
    if (nb > INT32_MAX || nl > INT32_MAX || nc > INT32_MAX || bytes > UINT32_MAX) return 0;
    out->blocks = malloc((nb ? nb : 1) * sizeof *out->blocks);
    out->lines = malloc((nl ? nl : 1) * sizeof *out->lines);
    out->chars = malloc((nc ? nc : 1) * sizeof *out->chars);
    out->utf8 = malloc(bytes);
    if (!out->blocks || !out->lines || !out->chars || !out->utf8) return 0;

    float page_area = (bounds.x1 - bounds.x0) * (bounds.y1 - bounds.y0);
    float img_area = 0;
    int32_t bi = 0, li = 0, ci = 0, images = 0;
    uint32_t pos = 0;
    for (fz_stext_block *b = st->first_block; b; b = b->next, bi++) {
        cmu_block *ob = &out->blocks[bi];
        ob->bbox = to_rect(b->bbox);
        ob->type = b->type == FZ_STEXT_BLOCK_TEXT ? 0 : 1;
        ob->first_line = li;
        ob->line_count = 0;
        if (b->type != FZ_STEXT_BLOCK_TEXT) {
            images++;
            img_area += clipped_area(b->bbox, bounds);
            continue;
        }
        for (fz_stext_line *l = b->u.t.first_line; l; l = l->next, li++) {
            cmu_line *ol = &out->lines[li];
            ol->bbox = to_rect(l->bbox);
            ol->block_index = bi;
            ol->first_char = ci;
            ol->wmode = l->wmode;
            ol->dir_x = l->dir.x;
            ol->dir_y = l->dir.y;
            ol->utf8_offset = pos;
            for (fz_stext_char *ch = l->first_char; ch; ch = ch->next, ci++) {
                cmu_char *oc = &out->chars[ci];
                oc->codepoint = sanitize_cp(ch->c);
                oc->bbox = to_rect(fz_rect_from_quad(ch->quad));
                oc->origin_x = ch->origin.x;
                oc->origin_y = ch->origin.y;
                oc->size = ch->size;
                oc->utf8_offset = pos;
                pos += (uint32_t)utf8_encode(oc->codepoint, out->utf8 + pos);
            }
            ol->char_count = ci - ol->first_char;
            ol->utf8_length = pos - ol->utf8_offset;
            out->utf8[pos++] = '\n';
            ob->line_count++;
        }
        out->utf8[pos++] = '\n';
    }
    out->utf8[pos] = 0;
    out->utf8_length = pos;
    out->block_count = bi;
    out->line_count = li;
    out->char_count = ci;
    out->image_count = images;
    out->image_area_ratio = page_area > 0 ? img_area / page_area : 0;
    return 1;
}

void cmu_text_page_free(cmu_text_page *tp)
{
    if (!tp) return;
    free(tp->blocks);
    free(tp->lines);
    free(tp->chars);
    free(tp->utf8);
    memset(tp, 0, sizeof *tp);
}

static int check_page(cmu_document *d, int32_t idx, cmu_error *err)
{
    if (!d) { set_err(err, CMU_ERR_ARGUMENT, "NULL document"); return 0; }
    if (idx < 0) { set_err(err, CMU_ERR_ARGUMENT, "negative page index"); return 0; }
    return 1;
}

/* One pass of the stext device over a page. On success *stp owns the page. */
static int run_stext(cmu_document *d, int32_t page_index, int fzflags, cmu_cookie *cookie,
                     fz_stext_page **stp, fz_rect *boundsp, int *stagep, cmu_error *err)
{
    fz_context *fz = d->ctx->fz;
    fz_page *page = NULL;
    fz_stext_page *st = NULL;
    fz_device *dev = NULL;
    fz_rect bounds = fz_empty_rect;
    fz_stext_options opts;
    memset(&opts, 0, sizeof opts);
    opts.flags = fzflags;
    int status = CMU_OK, out_of_range = 0, stage = 0;
    fz_var(stage);
    fz_var(status);
    fz_var(bounds);
    fz_var(page);
    fz_var(st);
    fz_var(dev);
    fz_var(out_of_range);
    fz_try(fz) {
        if (page_index >= fz_count_pages(fz, d->doc))
            out_of_range = 1;
        else {
            page = fz_load_page(fz, d->doc, page_index);
            bounds = fz_bound_page(fz, page);
            stage = 1;   /* page loaded; failures from here on come from content */
            st = fz_new_stext_page(fz, bounds);
            dev = fz_new_stext_device(fz, st, &opts);
            /* fz_new_stext_page_from_page() has no cookie parameter in 1.21,
             * so run the page through the device ourselves. */
            fz_run_page(fz, page, dev, fz_identity, cookie ? &cookie->c : NULL);
            fz_close_device(fz, dev);
        }
    }
    fz_always(fz) {
        fz_drop_device(fz, dev);
        fz_drop_page(fz, page);
    }
    fz_catch(fz)
        status = caught_sh(fz, d->ctx->sh, err);
    status = page_run_status(status, out_of_range, cookie, err);
    if (status != CMU_OK) {
        fz_drop_stext_page(fz, st);   /* never throws */
        st = NULL;
    }
    *stp = st;
    *boundsp = bounds;
    *stagep = stage;
    return status;
}

static int32_t cmu_page_extract_text_impl(cmu_document *d, int32_t page_index, int32_t flags,
                              cmu_cookie *cookie, cmu_text_page *out, cmu_error *err);
int32_t cmu_page_extract_text(cmu_document *d, int32_t page_index, int32_t flags,
                              cmu_cookie *cookie, cmu_text_page *out, cmu_error *err)
{
    cmu_error dummy;
    return cmu_page_extract_text_impl(d, page_index, flags, cookie, out, (err ? err : &dummy));
}
static int32_t cmu_page_extract_text_impl(cmu_document *d, int32_t page_index, int32_t flags,
                              cmu_cookie *cookie, cmu_text_page *out, cmu_error *err)
{
    clear_err(err);
    if (!out) { set_err(err, CMU_ERR_ARGUMENT, "NULL out"); return CMU_ERR_ARGUMENT; }
    memset(out, 0, sizeof *out);
    if (!check_page(d, page_index, err)) return CMU_ERR_ARGUMENT;
    MARK_FAILS(d->ctx->sh);
    int base = flags & (FZ_STEXT_PRESERVE_LIGATURES | FZ_STEXT_PRESERVE_WHITESPACE |
                        FZ_STEXT_INHIBIT_SPACES | FZ_STEXT_DEHYPHENATE | FZ_STEXT_MEDIABOX_CLIP);
    int want_images = !(flags & CMU_TEXT_NO_IMAGES);
    fz_stext_page *st = NULL;
    fz_rect bounds;
    /* FZ_STEXT_PRESERVE_IMAGES makes the interpreter load every image; one
     * broken image ("image is too wide", bad JPX ...) then fails the whole
     * page. Retry without images so the text is not lost. */
    int stage = 0;
    int status = run_stext(d, page_index, base | (want_images ? FZ_STEXT_PRESERVE_IMAGES : 0),
                           cookie, &st, &bounds, &stage, err);
    int images_unknown = 0;
    if (want_images && stage == 1 && (status == CMU_ERR_GENERIC || status == CMU_ERR_SYNTAX)) {
        cmu_error first = *err;
        status = run_stext(d, page_index, base, cookie, &st, &bounds, &stage, err);
        if (status == CMU_OK) {
            images_unknown = 1;
            set_err(err, CMU_OK, first.message);  /* keep the reason as a note */
        }
    }
    if (status != CMU_OK) return status;
    out->width = bounds.x1 - bounds.x0;
    out->height = bounds.y1 - bounds.y0;
    out->content_errors = cookie ? cookie->c.errors : 0;
    if (!flatten_stext(st, bounds, out)) {
        cmu_text_page_free(out);
        status = CMU_ERR_MEMORY;
        set_err(err, status, "out of memory flattening text");
    } else if (!want_images || images_unknown) {
        out->image_count = -1;
    }
    fz_drop_stext_page(d->ctx->fz, st);   /* never throws */
    return status;
}

/* ------------------------------------------------------------------------ */
/* rendering                                                                 */

void cmu_gray_image_free(cmu_gray_image *img)
{
    if (!img) return;
    free(img->samples);
    memset(img, 0, sizeof *img);
}

static int32_t cmu_page_render_gray_impl(cmu_document *d, int32_t page_index, float dpi,
                             cmu_cookie *cookie, cmu_gray_image *out, cmu_error *err);
int32_t cmu_page_render_gray(cmu_document *d, int32_t page_index, float dpi,
                             cmu_cookie *cookie, cmu_gray_image *out, cmu_error *err)
{
    cmu_error dummy;
    return cmu_page_render_gray_impl(d, page_index, dpi, cookie, out, (err ? err : &dummy));
}

static int32_t cmu_page_render_gray_impl(cmu_document *d, int32_t page_index, float dpi,
                             cmu_cookie *cookie, cmu_gray_image *out, cmu_error *err)
{
    clear_err(err);
    if (!out) { set_err(err, CMU_ERR_ARGUMENT, "NULL out"); return CMU_ERR_ARGUMENT; }
    memset(out, 0, sizeof *out);
    if (!check_page(d, page_index, err)) return CMU_ERR_ARGUMENT;
    if (!(dpi >= 1 && dpi <= 4800)) { set_err(err, CMU_ERR_ARGUMENT, "dpi out of range"); return CMU_ERR_ARGUMENT; }
    fz_context *fz = d->ctx->fz;
    MARK_FAILS(d->ctx->sh);
    fz_page *page = NULL;
    fz_pixmap *pix = NULL;
    fz_device *dev = NULL;
    int status = CMU_OK;
    fz_var(page);
    fz_var(pix);
    fz_var(dev);
    int out_of_range = 0;
    fz_try(fz) {
        if (page_index >= fz_count_pages(fz, d->doc))
            out_of_range = 1;
        else {
            page = fz_load_page(fz, d->doc, page_index);
            fz_matrix ctm = fz_scale(dpi / 72.0f, dpi / 72.0f);
            fz_irect ib = fz_round_rect(fz_transform_rect(fz_bound_page(fz, page), ctm));
            if ((int64_t)(ib.x1 - ib.x0) * (ib.y1 - ib.y0) > (int64_t)INT32_MAX)
                fz_throw(fz, FZ_ERROR_GENERIC, "pixmap too large");
            pix = fz_new_pixmap_with_bbox(fz, fz_device_gray(fz), ib, NULL, 0);
            fz_clear_pixmap_with_value(fz, pix, 255);
            dev = fz_new_draw_device(fz, fz_identity, pix);
            fz_run_page(fz, page, dev, ctm, cookie ? &cookie->c : NULL);
            fz_close_device(fz, dev);
        }
    }
    fz_always(fz) {
        fz_drop_device(fz, dev);
        fz_drop_page(fz, page);
    }
    fz_catch(fz)
        status = caught_sh(fz, d->ctx->sh, err);
    status = page_run_status(status, out_of_range, cookie, err);
    if (status == CMU_OK) {
        int w = fz_pixmap_width(fz, pix), h = fz_pixmap_height(fz, pix);
        ptrdiff_t stride = fz_pixmap_stride(fz, pix);
        unsigned char *src = fz_pixmap_samples(fz, pix);
        out->samples = malloc((size_t)w * (size_t)h + 1);
        if (!out->samples) {
            status = CMU_ERR_MEMORY;
            set_err(err, status, "out of memory copying pixmap");
        } else {
            for (int y = 0; y < h; y++)
                memcpy(out->samples + (size_t)y * w, src + (size_t)y * stride, (size_t)w);
            out->width = w;
            out->height = h;
            out->stride = w;
            out->dpi = dpi;
        }
    }
    fz_drop_pixmap(fz, pix);
    return status;
}

/* ------------------------------------------------------------------------ */
/* image-only PDF                                                            */

static int32_t cmu_write_image_pdf_impl(cmu_context *c, const cmu_gray_image *img, const char *options,
                            const char *out_path, uint8_t **out_data, size_t *out_len,
                            cmu_error *err);
int32_t cmu_write_image_pdf(cmu_context *c, const cmu_gray_image *img, const char *options,
                            const char *out_path, uint8_t **out_data, size_t *out_len,
                            cmu_error *err)
{
    cmu_error dummy;
    return cmu_write_image_pdf_impl(c, img, options ? options : "compress,compress-images", out_path, out_data, out_len, (err ? err : &dummy));
}

static int32_t cmu_write_image_pdf_impl(cmu_context *c, const cmu_gray_image *img, const char *options,
                            const char *out_path, uint8_t **out_data, size_t *out_len,
                            cmu_error *err)
{
    clear_err(err);
    if (out_data) *out_data = NULL;
    if (out_len) *out_len = 0;
    if (!c || !img || !img->samples || img->width <= 0 || img->height <= 0 ||
        img->stride < img->width || (!out_path && (!out_data || !out_len))) {
        set_err(err, CMU_ERR_ARGUMENT, "bad argument");
        return CMU_ERR_ARGUMENT;
    }
    fz_context *fz = c->fz;
    MARK_FAILS(c->sh);
    float dpi = img->dpi > 0 ? img->dpi : 72.0f;
    fz_pixmap *pix = NULL;
    fz_image *image = NULL;
    fz_buffer *buf = NULL;
    fz_output *out = NULL;
    fz_document_writer *wri = NULL;
    int status = CMU_OK;
    fz_var(pix); fz_var(image); fz_var(buf); fz_var(out); fz_var(wri);
    fz_try(fz) {
        pix = fz_new_pixmap(fz, fz_device_gray(fz), img->width, img->height, NULL, 0);
        unsigned char *dst = fz_pixmap_samples(fz, pix);
        ptrdiff_t dstride = fz_pixmap_stride(fz, pix);
        for (int y = 0; y < img->height; y++)
            memcpy(dst + (size_t)y * dstride, img->samples + (size_t)y * img->stride, (size_t)img->width);
        fz_set_pixmap_resolution(fz, pix, (int)dpi, (int)dpi);
        image = fz_new_image_from_pixmap(fz, pix, NULL);
        float pw = img->width * 72.0f / dpi, ph = img->height * 72.0f / dpi;
        fz_rect mediabox = { 0, 0, pw, ph };
        if (out_path) {
            wri = fz_new_pdf_writer(fz, out_path, options);
        } else {
            buf = fz_new_buffer(fz, 64 * 1024);
            out = fz_new_output_with_buffer(fz, buf);
            wri = fz_new_pdf_writer_with_output(fz, out, options);
            out = NULL;  /* owned (and dropped) by the writer now */
        }
        fz_device *dev = fz_begin_page(fz, wri, mediabox);  /* owned by writer */
        /* image space is the unit square; scale to the page in fitz space
         * (y down). The writer converts to PDF space. */
        fz_fill_image(fz, dev, image, fz_scale(pw, ph), 1.0f, fz_default_color_params);
        fz_end_page(fz, wri);
        fz_close_document_writer(fz, wri);
        if (!out_path) {
            unsigned char *data = NULL;
            size_t len = fz_buffer_storage(fz, buf, &data);
            *out_data = malloc(len ? len : 1);
            if (!*out_data)
                fz_throw(fz, FZ_ERROR_MEMORY, "out of memory copying PDF");
            memcpy(*out_data, data, len);
            *out_len = len;
        }
    }
    fz_always(fz) {
        fz_drop_document_writer(fz, wri);
        fz_drop_output(fz, out);
        fz_drop_buffer(fz, buf);
        fz_drop_image(fz, image);
        fz_drop_pixmap(fz, pix);
    }
    fz_catch(fz)
        status = caught_sh(fz, c->sh, err);
    return status;
}

void cmu_free(void *p) { free(p); }
const char *cmu_mupdf_version(void) { return FZ_VERSION; }
