/* ctesseract.c - see include/ctesseract.h */
#include "ctesseract.h"

#include <tesseract/capi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctess_engine {
    TessBaseAPI *api;
    int cancel;   /* accessed with __atomic builtins */
};

static void set_err(ctess_error *err, int code, const char *msg)
{
    if (!err) return;
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", msg ? msg : "");
}

const char *ctess_version(void) { return TessVersion(); }

ctess_engine *ctess_new(const char *tessdata_dir, const char *lang, ctess_error *err)
{
    set_err(err, CTESS_OK, "");
    if (!lang || !*lang) lang = "eng";
    ctess_engine *e = calloc(1, sizeof *e);
    if (!e) { set_err(err, CTESS_ERR_MEMORY, "out of memory"); return NULL; }
    e->api = TessBaseAPICreate();
    if (!e->api) { free(e); set_err(err, CTESS_ERR_MEMORY, "TessBaseAPICreate failed"); return NULL; }
    /* Silence tesseract's own chatter (it goes to stderr otherwise). Must be
     * set before and after Init (Init resets non-init params). */
    TessBaseAPISetVariable(e->api, "debug_file", "/dev/null");
    if (TessBaseAPIInit2(e->api, tessdata_dir, lang, OEM_DEFAULT) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "TessBaseAPIInit2 failed for lang '%s' (tessdata: %s)", lang,
                 tessdata_dir ? tessdata_dir : "default");
        TessBaseAPIDelete(e->api);
        free(e);
        set_err(err, CTESS_ERR_INIT, msg);
        return NULL;
    }
    TessBaseAPISetVariable(e->api, "debug_file", "/dev/null");
    return e;
}

void ctess_free(ctess_engine *e)
{
    if (!e) return;
    TessBaseAPIEnd(e->api);
    TessBaseAPIDelete(e->api);
    free(e);
}

void ctess_cancel(ctess_engine *e)
{
    if (e) __atomic_store_n(&e->cancel, 1, __ATOMIC_RELEASE);
}

static bool cancel_cb(void *user, int words)
{
    (void)words;
    ctess_engine *e = user;
    return __atomic_load_n(&e->cancel, __ATOMIC_ACQUIRE) != 0;
}

void ctess_result_free(ctess_result *r)
{
    if (!r) return;
    free(r->text);
    free(r->words);
    free(r->words_utf8);
    memset(r, 0, sizeof *r);
}

int32_t ctess_recognize_gray(ctess_engine *e, const uint8_t *pixels, int32_t width,
                             int32_t height, int32_t bytes_per_line, int32_t dpi,
                             int32_t psm, int32_t timeout_ms, ctess_result *out,
                             ctess_error *err)
{
    return ctess_recognize_region(e, pixels, width, height, bytes_per_line, dpi, NULL, NULL, 0,
                                  psm, timeout_ms, out, err);
}

int32_t ctess_recognize_region(ctess_engine *e, const uint8_t *pixels, int32_t width,
                               int32_t height, int32_t bytes_per_line, int32_t dpi,
                               const ctess_rect *region, const char *whitelist,
                               int32_t symbols, int32_t psm, int32_t timeout_ms,
                               ctess_result *out, ctess_error *err)
{
    TessPageIteratorLevel level = symbols ? RIL_SYMBOL : RIL_WORD;
    set_err(err, CTESS_OK, "");
    if (!out) { set_err(err, CTESS_ERR_ARGUMENT, "NULL out"); return CTESS_ERR_ARGUMENT; }
    memset(out, 0, sizeof *out);
    if (!e || !pixels || width <= 0 || height <= 0 || bytes_per_line < width) {
        set_err(err, CTESS_ERR_ARGUMENT, "bad argument");
        return CTESS_ERR_ARGUMENT;
    }
    TessBaseAPI *api = e->api;
    __atomic_store_n(&e->cancel, 0, __ATOMIC_RELEASE);
    TessBaseAPISetPageSegMode(api, psm < 0 ? PSM_AUTO : (TessPageSegMode)psm);
    TessBaseAPISetImage(api, pixels, width, height, 1, bytes_per_line);
    TessBaseAPISetSourceResolution(api, dpi > 0 ? dpi : 300);
    if (region) {
        int32_t x0 = region->x0 < 0 ? 0 : region->x0, y0 = region->y0 < 0 ? 0 : region->y0;
        int32_t x1 = region->x1 > width ? width : region->x1, y1 = region->y1 > height ? height : region->y1;
        if (x1 > x0 && y1 > y0) TessBaseAPISetRectangle(api, x0, y0, x1 - x0, y1 - y0);
    }
    /* An empty whitelist allows every character: what the next call expects. */
    TessBaseAPISetVariable(api, "tessedit_char_whitelist", whitelist ? whitelist : "");

    ETEXT_DESC *mon = TessMonitorCreate();
    TessMonitorSetCancelFunc(mon, cancel_cb);
    TessMonitorSetCancelThis(mon, e);
    if (timeout_ms > 0) TessMonitorSetDeadlineMSecs(mon, timeout_ms);
    int rc = TessBaseAPIRecognize(api, mon);
    TessMonitorDelete(mon);
    if (__atomic_load_n(&e->cancel, __ATOMIC_ACQUIRE)) {
        TessBaseAPIClear(api);
        set_err(err, CTESS_ERR_CANCELLED, "cancelled");
        return CTESS_ERR_CANCELLED;
    }
    if (rc != 0) {
        TessBaseAPIClear(api);
        set_err(err, timeout_ms > 0 ? CTESS_ERR_CANCELLED : CTESS_ERR_RECOGNIZE,
                timeout_ms > 0 ? "recognize failed or deadline exceeded" : "recognize failed");
        return err ? err->code : CTESS_ERR_RECOGNIZE;
    }

    /* full text */
    char *t = TessBaseAPIGetUTF8Text(api);
    out->text = strdup(t ? t : "");
    if (t) TessDeleteText(t);
    out->mean_confidence = TessBaseAPIMeanTextConf(api);

    /* words */
    size_t cap = 256, n = 0, tcap = 4096, tlen = 0;
    out->words = malloc(cap * sizeof *out->words);
    out->words_utf8 = malloc(tcap);
    int status = CTESS_OK;
    if (!out->text || !out->words || !out->words_utf8) status = CTESS_ERR_MEMORY;
    TessResultIterator *ri = status == CTESS_OK ? TessBaseAPIGetIterator(api) : NULL;
    int32_t block = -1, para = -1, line = -1;
    if (ri) {
        TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
        do {
            if (TessPageIteratorIsAtBeginningOf(pi, RIL_BLOCK)) block++;
            if (TessPageIteratorIsAtBeginningOf(pi, RIL_PARA)) para++;
            if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) line++;
            char *w = TessResultIteratorGetUTF8Text(ri, level);
            if (!w) continue;
            size_t wl = strlen(w);
            if (n == cap) {
                void *p = realloc(out->words, (cap *= 2) * sizeof *out->words);
                if (!p) { TessDeleteText(w); status = CTESS_ERR_MEMORY; break; }
                out->words = p;
            }
            if (tlen + wl + 1 > tcap) {
                while (tlen + wl + 1 > tcap) tcap *= 2;
                void *p = realloc(out->words_utf8, tcap);
                if (!p) { TessDeleteText(w); status = CTESS_ERR_MEMORY; break; }
                out->words_utf8 = p;
            }
            ctess_word *ow = &out->words[n++];
            int l = 0, tp = 0, r = 0, b = 0;
            TessPageIteratorBoundingBox(pi, level, &l, &tp, &r, &b);
            ow->x0 = l; ow->y0 = tp; ow->x1 = r; ow->y1 = b;
            ow->confidence = TessResultIteratorConfidence(ri, level);
            ow->block = block; ow->para = para; ow->line = line;
            ow->text_offset = (uint32_t)tlen;
            ow->text_length = (uint32_t)wl;
            memcpy(out->words_utf8 + tlen, w, wl + 1);
            tlen += wl + 1;
            TessDeleteText(w);
        } while (TessResultIteratorNext(ri, level));
        TessResultIteratorDelete(ri);
    }
    out->word_count = (int32_t)n;
    TessBaseAPIClear(api);
    if (status != CTESS_OK) {
        ctess_result_free(out);
        set_err(err, status, "out of memory");
    }
    return status;
}
