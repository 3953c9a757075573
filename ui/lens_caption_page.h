/* The Caption page: an image (opened, dropped, pasted, an example scene, or composed in the
 * window from shapes the user adds, colours, resizes, drags and deletes) captioned on a
 * worker thread at every change, the caption as a row of words with each word's probability
 * and beta, and where each word looked: the overlay of one word's attention on the image, or
 * the storyboard of all of them. */
#ifndef LENS_CAPTION_PAGE_H
#define LENS_CAPTION_PAGE_H

#include <gtk/gtk.h>

#include "lens_page.h"

#include "lens_compose.h"
#include "lens_trace_view.h"

G_BEGIN_DECLS

#define LENS_TYPE_CAPTION_PAGE (lens_caption_page_get_type())
G_DECLARE_FINAL_TYPE(LensCaptionPage, lens_caption_page, LENS, CAPTION_PAGE, LensPage)

GtkWidget *lens_caption_page_new(void);

/* The models are the base's (lens_page_add_model, lens_page_select_model): caption-scenes by
 * default. The folder of the model loaded last (or loading). */
const char *lens_caption_page_get_model_path(LensCaptionPage *self);

/* The example scenes: dir holds scenes.json and the PNGs (training/scenes.py --examples). */
void lens_caption_page_set_examples_dir(LensCaptionPage *self, const char *dir);
int lens_caption_page_get_n_examples(LensCaptionPage *self);
/* What example k shows, as scenes.json describes it (borrowed JSON object), or NULL. */
const void *lens_caption_page_get_example(LensCaptionPage *self, int k);
void lens_caption_page_show_example(LensCaptionPage *self, int k);
/* The example photos: dir holds photos.json ({"photos": [{"file", "title", "credit"}]}) and the
 * files it names. The Examples menu lists them before the scenes; a photo shown from it has its
 * credit under the toolbar (lens_caption_page_get_credit) until another image replaces it. */
void lens_caption_page_set_photos_dir(LensCaptionPage *self, const char *dir);
int lens_caption_page_get_n_photos(LensCaptionPage *self);
void lens_caption_page_show_photo(LensCaptionPage *self, int k);
const char *lens_caption_page_get_credit(LensCaptionPage *self); /* the credit shown, or NULL */

/* Opens an image file on a worker thread (as a drop or the file chooser does); a file that
 * cannot be read leaves the current image and says why. */
void lens_caption_page_open_file(LensCaptionPage *self, const char *path);
/* Shows a pasted image (the clipboard's texture or file). */
void lens_caption_page_paste(LensCaptionPage *self);

/* Compose mode: the canvas shows the composed scene and takes the pointer for dragging; the
 * scene, its toolbar and its editing are the LensCompose (adding a shape there turns Compose on). */
void lens_caption_page_set_compose(LensCaptionPage *self, gboolean on);
gboolean lens_caption_page_get_compose(LensCaptionPage *self);
LensCompose *lens_caption_page_get_composer(LensCaptionPage *self);
/* Where shape i's centre is on the canvas (widget coordinates, after a draw); FALSE if none. */
gboolean lens_caption_page_compose_locate(LensCaptionPage *self, int i, double *x, double *y);
/* The pointer gestures of the canvas: press at (x, y) picks the topmost shape there, moves drag
 * it, release ends the drag (widget coordinates). */
void lens_caption_page_drag_begin(LensCaptionPage *self, double x, double y);
void lens_caption_page_drag_update(LensCaptionPage *self, double x, double y);
void lens_caption_page_drag_end(LensCaptionPage *self);

/* The caption and its attention. */
const attn_trace *lens_caption_page_get_trace(LensCaptionPage *self);
/* Number of traces the page has shown since it was made (each new caption adds one). */
guint lens_caption_page_get_n_results(LensCaptionPage *self);
double lens_caption_page_get_last_ms(LensCaptionPage *self);
/* The word whose overlay is shown (-1: all words), as a hover or click on the word row does. */
void lens_caption_page_select_word(LensCaptionPage *self, int word);
int lens_caption_page_get_word(LensCaptionPage *self);
GtkWidget *lens_caption_page_get_word_button(LensCaptionPage *self, int word); /* NULL if none */

/* Display: overlay or storyboard (what the canvas shows and what export writes), heat opacity,
 * upsampling, blur (in grid cells), beam size. */
void lens_caption_page_set_view(LensCaptionPage *self, LensView view);
void lens_caption_page_set_opacity(LensCaptionPage *self, double opacity);
void lens_caption_page_set_upsample(LensCaptionPage *self, LensUpsample upsample);
void lens_caption_page_set_blur(LensCaptionPage *self, double cells);
void lens_caption_page_set_beam(LensCaptionPage *self, int beam);
const LensRenderOptions *lens_caption_page_get_options(LensCaptionPage *self);

/* The canvas and where its last drawing put things (layout.grid is the image). */
GtkWidget *lens_caption_page_get_canvas(LensCaptionPage *self);
const LensLayout *lens_caption_page_get_layout(LensCaptionPage *self);

G_END_DECLS

#endif
