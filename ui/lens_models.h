/* The models the window can offer: shipped ones (data/models) and the user's own
 * (XDG data dir/attnlens/models or any folder opened), each with its model card. */
#ifndef LENS_MODELS_H
#define LENS_MODELS_H

#include <gio/gio.h>

#include "attn_translate.h"

typedef struct LensModelEntry {
  char *name;         /* directory base name */
  char *display_name;
  char *path;
  char *task;         /* "translate", "caption", "read" */
  char *card;         /* MODEL.md text, or a note that there is none */
  char *example;      /* config attnlens.example: an input to show first, or NULL */
  char *pair;         /* "en→de" from attnlens.source_lang/target_lang, or NULL */
  char *domain;       /* attnlens.domain ("image descriptions"), or NULL */
  char *facts;        /* training data and measured scores (attnlens.training_data, .scores), or NULL */
  gboolean user;      /* from the user's folder */
} LensModelEntry;

void lens_model_entry_free(LensModelEntry *e);
LensModelEntry *lens_model_entry_copy(const LensModelEntry *e);

/* The user's models folder (not created). Caller frees. */
char *lens_models_user_dir(void);

/* Reads one model directory's config and card; NULL with error set if it is not usable. */
LensModelEntry *lens_model_entry_read(const char *path, gboolean user, GError **error);

/* A model card (MODEL.md, or the facts above it) as Pango markup: headings in bold, `code` and
 * fenced blocks in monospace, **bold**, each table row as one line ("first cell · column:
 * value · ..."), so it wraps; everything else escaped as plain text. Caller frees. */
char *lens_card_markup(const char *md);

/* Every usable model in the folders (NULL entries are skipped), sorted by task, language pair
 * and name. */
GPtrArray *lens_models_scan(const char *const *folders, const gboolean *user_flags, int n_folders);

/* A loaded model (translator, reader, captioner) shared by a page and its worker threads:
 * reference counted, freed with the model's own free function when the last user lets go. */
typedef struct LensModelRef LensModelRef;
typedef void *(*LensModelLoader)(const char *path, attn_error *err);
LensModelRef *lens_model_ref_acquire(LensModelRef *r);
void lens_model_ref_release(LensModelRef *r); /* NULL is fine */
void *lens_model_ref_get(LensModelRef *r);

/* Called on the main thread after each model load a slot started finishes: loaded is TRUE
 * when it installed the chosen model in slot->model, error is set when the chosen model
 * failed to load; a load the user has since replaced gives FALSE and NULL. */
typedef void (*LensModelReady)(gpointer page, gboolean loaded, const GError *error);

/* The model a page works with: the one chosen last, loaded on a worker thread. */
typedef struct LensModelSlot {
  char *path;          /* chosen last; NULL before the first choice */
  LensModelRef *model; /* the loaded model; NULL while it loads or after it failed */
  int loading;         /* loads under way (the page's spinner) */
  gpointer page;       /* the GObject the loads belong to (kept alive while they run) */
  LensModelLoader load;
  GDestroyNotify free_model;
  LensModelReady ready;
} LensModelSlot;
void lens_model_slot_init(LensModelSlot *slot, gpointer page, LensModelLoader load, GDestroyNotify free_model,
                          LensModelReady ready);
/* Chooses path: starts loading it unless it is the loaded model already (FALSE then). */
gboolean lens_model_slot_choose(LensModelSlot *slot, const char *path);
/* Lets go of the model and the path (dispose/finalize). */
void lens_model_slot_clear(LensModelSlot *slot);

#define LENS_ERROR (lens_error_quark())
GQuark lens_error_quark(void);

#endif
