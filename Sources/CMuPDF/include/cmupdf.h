/*
 * cmupdf.h - small, Swift-friendly C wrapper around MuPDF 1.21 (Debian 12).
 *
 * Rules:
 *  - No MuPDF types, no setjmp/fz_try, no varargs in this header.
 *  - Every call that can fail returns an int status (CMU_OK == 0) or NULL, and
 *    fills an optional caller-provided cmu_error (code + message). MuPDF
 *    exceptions (longjmp) never leave cmupdf.c.
 *  - Buffers/structs returned to the caller are allocated with libc malloc and
 *    must be released with the matching cmu_*_free() function.
 *  - Threading: one cmu_context per thread. Create one root context, then
 *    cmu_context_clone() it for every additional thread. A cmu_document (and
 *    its pages) must only be used with the context it was opened with and
 *    never concurrently. Only cmu_cookie_abort() may be called from any thread.
 */
#ifndef CMUPDF_H
#define CMUPDF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------ */
typedef enum {
    CMU_OK = 0,
    CMU_ERR_GENERIC = 1,         /* FZ_ERROR_GENERIC: cannot open/parse, I/O ... */
    CMU_ERR_MEMORY = 2,          /* allocation failed / memory cap exceeded */
    CMU_ERR_SYNTAX = 3,          /* FZ_ERROR_SYNTAX */
    CMU_ERR_ABORTED = 4,         /* cookie aborted (cancellation / time limit) */
    CMU_ERR_TRYLATER = 5,        /* progressive loading: data not yet available */
    CMU_ERR_NEEDS_PASSWORD = 6,  /* document encrypted, no password given */
    CMU_ERR_WRONG_PASSWORD = 7,  /* password given but rejected */
    CMU_ERR_ARGUMENT = 8,        /* bad argument (NULL, page out of range, dpi) */
    CMU_ERR_UNSUPPORTED = 9      /* unknown document type */
} cmu_status;

typedef struct {
    int32_t code;          /* cmu_status */
    char message[256];     /* NUL-terminated, empty on success */
} cmu_error;

/* ---- context ----------------------------------------------------------- */
typedef struct cmu_context cmu_context;

/* memory_limit: max bytes MuPDF may hold at once through its allocator
 *               (0 = unlimited). Shared by all clones of the root context.
 * store_limit:  size of MuPDF's resource cache (0 = MuPDF default 256 MiB;
 *               it is clamped to memory_limit/2 when a memory limit is set). */
cmu_context *cmu_context_new(size_t memory_limit, size_t store_limit, cmu_error *err);
/* New context for another thread sharing allocator, locks, store and cap. */
cmu_context *cmu_context_clone(cmu_context *ctx, cmu_error *err);
/* Free clones before the root. */
void cmu_context_free(cmu_context *ctx);

typedef struct {
    uint64_t current_bytes;   /* currently allocated through MuPDF allocator */
    uint64_t peak_bytes;
    uint64_t limit_bytes;     /* 0 = unlimited */
    uint64_t failed_allocs;   /* allocations refused because of the cap */
    uint64_t warnings;        /* warnings reported on this (clone) context */
    uint64_t errors;          /* errors reported on this (clone) context */
} cmu_memory_stats;
void cmu_context_stats(cmu_context *ctx, cmu_memory_stats *out);

/* Drop MuPDF's resource store and glyph cache (memory returns to the
 * context baseline once all documents are closed). */
void cmu_context_empty_caches(cmu_context *ctx);

/* Log sink. level: 1 = warning, 2 = error. Called synchronously on the thread
 * using ctx; msg is only valid during the call. Default (NULL): messages are
 * counted and dropped (nothing goes to stderr). */
typedef void (*cmu_log_fn)(void *user, int32_t level, const char *msg);
void cmu_context_set_log(cmu_context *ctx, cmu_log_fn fn, void *user);

/* ---- cancellation ------------------------------------------------------ */
typedef struct cmu_cookie cmu_cookie;
cmu_cookie *cmu_cookie_new(void);
void cmu_cookie_free(cmu_cookie *c);
void cmu_cookie_reset(cmu_cookie *c);         /* call before reusing */
void cmu_cookie_abort(cmu_cookie *c);         /* thread-safe; one-way */
int32_t cmu_cookie_progress(const cmu_cookie *c);
int32_t cmu_cookie_errors(const cmu_cookie *c);  /* content errors tolerated */

/* ---- documents --------------------------------------------------------- */
typedef struct cmu_document cmu_document;

/* Open a document. password may be NULL. Encrypted docs return NULL with
 * CMU_ERR_NEEDS_PASSWORD (password NULL/"") or CMU_ERR_WRONG_PASSWORD.
 * Note: fz_open_document/count_pages cannot be cancelled by a cookie. */
cmu_document *cmu_document_open_file(cmu_context *ctx, const char *path,
                                     const char *password, cmu_error *err);
/* As cmu_document_open_file, but the format is named by magic (a file name or
 * mime type, "image/png"), not guessed from the path: stored blobs have no
 * extension. */
cmu_document *cmu_document_open_file_as(cmu_context *ctx, const char *path, const char *magic,
                                        const char *password, cmu_error *err);
/* The bytes are copied; magic is a file name or mime type ("application/pdf";
 * NULL means PDF). */
cmu_document *cmu_document_open_memory(cmu_context *ctx, const uint8_t *data, size_t len,
                                       const char *magic, const char *password,
                                       cmu_error *err);
void cmu_document_free(cmu_document *doc);
/* Returns page count, or -1 on error (err filled). */
int32_t cmu_document_page_count(cmu_document *doc, cmu_error *err);
/* 1 if the document was opened with a non-empty password requirement. */
int32_t cmu_document_was_encrypted(cmu_document *doc);
/* UTF-8 metadata lookup ("format", "encryption", "info:Title", ...).
 * Returns malloc'd string (free with cmu_free) or NULL if absent. */
char *cmu_document_metadata(cmu_document *doc, const char *key);

/* ---- structured text --------------------------------------------------- */
/* flags: bitwise OR (values equal MuPDF's FZ_STEXT_*). Recommended for
 * indexing: 0 (ligatures expanded to f,f,i; whitespace normalised to spaces;
 * missing spaces synthesised from gaps). */
enum {
    CMU_TEXT_PRESERVE_LIGATURES = 1,
    CMU_TEXT_PRESERVE_WHITESPACE = 2,
    CMU_TEXT_INHIBIT_SPACES = 8,
    CMU_TEXT_DEHYPHENATE = 16,
    CMU_TEXT_MEDIABOX_CLIP = 64,
    /* shim-only: do not collect image blocks (faster; image_count = -1) */
    CMU_TEXT_NO_IMAGES = 0x10000
};

typedef struct { float x0, y0, x1, y1; } cmu_rect;  /* points, origin top-left, y down */

typedef struct {
    uint32_t codepoint;    /* Unicode scalar (0xFFFD if unmapped) */
    cmu_rect bbox;         /* bounding box of the glyph quad */
    float origin_x, origin_y;
    float size;            /* font size in points */
    uint32_t utf8_offset;  /* byte offset of this char in cmu_text_page.utf8 */
} cmu_char;

typedef struct {
    cmu_rect bbox;
    int32_t block_index;
    int32_t first_char;    /* index into chars */
    int32_t char_count;
    int32_t wmode;         /* 0 horizontal, 1 vertical */
    float dir_x, dir_y;    /* baseline direction */
    uint32_t utf8_offset;  /* line text = utf8[utf8_offset ..< utf8_offset+utf8_length] */
    uint32_t utf8_length;  /* excluding the trailing '\n' */
} cmu_line;

typedef struct {
    cmu_rect bbox;
    int32_t type;          /* 0 text, 1 image */
    int32_t first_line;    /* text blocks: index into lines */
    int32_t line_count;
} cmu_block;

typedef struct {
    float width, height;   /* page size in points (after /Rotate) */
    int32_t block_count, line_count, char_count;
    int32_t image_count;   /* image blocks; -1 = unknown (CMU_TEXT_NO_IMAGES, or an image
                              failed to load and the page was re-run without images;
                              then err->message holds that reason while code == CMU_OK) */
    float image_area_ratio;/* union-free sum of image bbox areas / page area, clipped to page */
    int32_t content_errors;/* errors MuPDF tolerated while interpreting the page */
    cmu_block *blocks;
    cmu_line *lines;
    cmu_char *chars;
    char *utf8;            /* all text, '\n' after each line, extra '\n' after each block; NUL-terminated */
    uint32_t utf8_length;
} cmu_text_page;

/* Extract text of page page_index (0-based). cookie may be NULL. On error the
 * struct is zeroed. Free with cmu_text_page_free. */
int32_t cmu_page_extract_text(cmu_document *doc, int32_t page_index, int32_t flags,
                              cmu_cookie *cookie, cmu_text_page *out, cmu_error *err);
void cmu_text_page_free(cmu_text_page *tp);

/* ---- rendering --------------------------------------------------------- */
typedef struct {
    int32_t width, height, stride;  /* stride = bytes per row (== width for gray) */
    float dpi;
    uint8_t *samples;               /* 8-bit gray, 0 = black, 255 = white */
} cmu_gray_image;

int32_t cmu_page_render_gray(cmu_document *doc, int32_t page_index, float dpi,
                             cmu_cookie *cookie, cmu_gray_image *out, cmu_error *err);
void cmu_gray_image_free(cmu_gray_image *img);

/* Write a one-page PDF whose only content is the gray image, page size =
 * image size at its dpi (img->dpi, 72 if <= 0). options: MuPDF PDF write
 * options (NULL = "compress,compress-images"; e.g. add
 * ",encrypt=aes-256,user-password=x,owner-password=y" for an encrypted PDF).
 * out_path may be NULL, then the PDF bytes are returned in out_data and out_len
 * (free with cmu_free). */
int32_t cmu_write_image_pdf(cmu_context *ctx, const cmu_gray_image *img,
                            const char *options, const char *out_path,
                            uint8_t **out_data, size_t *out_len, cmu_error *err);

void cmu_free(void *p);
const char *cmu_mupdf_version(void);

#ifdef __cplusplus
}
#endif
#endif
