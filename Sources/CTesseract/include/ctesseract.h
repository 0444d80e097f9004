/*
 * ctesseract.h - small, Swift-friendly wrapper over Tesseract 5's C API
 * (tesseract/capi.h). One ctess_engine per thread (TessBaseAPI is not
 * thread-safe); ctess_cancel() may be called from any thread.
 */
#ifndef CTESSERACT_H
#define CTESSERACT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CTESS_OK = 0,
    CTESS_ERR_INIT = 1,        /* language data not found / init failed */
    CTESS_ERR_ARGUMENT = 2,
    CTESS_ERR_RECOGNIZE = 3,
    CTESS_ERR_CANCELLED = 4,   /* ctess_cancel() or timeout */
    CTESS_ERR_MEMORY = 5
} ctess_status;

typedef struct {
    int32_t code;
    char message[256];
} ctess_error;

typedef struct ctess_engine ctess_engine;

/* tessdata_dir: directory containing <lang>.traineddata, or NULL for the
 * built-in default (Debian 12: /usr/share/tesseract-ocr/5/tessdata) or
 * $TESSDATA_PREFIX. lang: "eng", "eng+deu", ... Debug output is sent to
 * /dev/null (debug_file variable). */
ctess_engine *ctess_new(const char *tessdata_dir, const char *lang, ctess_error *err);
void ctess_free(ctess_engine *e);
/* Request cancellation of the running ctess_recognize_gray (thread-safe).
 * The flag is cleared at the start of each recognize call. */
void ctess_cancel(ctess_engine *e);
const char *ctess_version(void);

typedef struct {
    int32_t x0, y0, x1, y1;    /* pixels, origin top-left */
    float confidence;          /* 0..100 */
    int32_t block, para, line; /* running indices of containing block/para/line */
    uint32_t text_offset;      /* into ctess_result.words_utf8 */
    uint32_t text_length;
} ctess_word;

typedef struct {
    char *text;                /* full page text (UTF-8, Tesseract layout), NUL-terminated */
    int32_t mean_confidence;   /* TessBaseAPIMeanTextConf */
    int32_t word_count;
    ctess_word *words;
    char *words_utf8;          /* word texts, each followed by a NUL */
} ctess_result;

/* pixels: 8-bit gray (bytes_per_pixel 1), rows of bytes_per_line bytes.
 * dpi: source resolution (important for accuracy; 0 -> 300).
 * psm: page segmentation mode (-1 -> PSM_AUTO = 3).
 * timeout_ms: 0 = none. */
int32_t ctess_recognize_gray(ctess_engine *e, const uint8_t *pixels, int32_t width,
                             int32_t height, int32_t bytes_per_line, int32_t dpi,
                             int32_t psm, int32_t timeout_ms, ctess_result *out,
                             ctess_error *err);

typedef struct { int32_t x0, y0, x1, y1; } ctess_rect;  /* pixels, origin top-left */

/* As ctess_recognize_gray, within region only (NULL: the whole image), and
 * recognising only the characters of whitelist (NULL: all). Boxes stay in the
 * whole image's pixels. symbols != 0: each ctess_word is one character (with
 * its own box and confidence) rather than a word. */
int32_t ctess_recognize_region(ctess_engine *e, const uint8_t *pixels, int32_t width,
                               int32_t height, int32_t bytes_per_line, int32_t dpi,
                               const ctess_rect *region, const char *whitelist,
                               int32_t symbols, int32_t psm, int32_t timeout_ms,
                               ctess_result *out, ctess_error *err);
void ctess_result_free(ctess_result *r);

#ifdef __cplusplus
}
#endif
#endif
