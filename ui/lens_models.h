/* The models the window can offer: shipped ones (data/models) and the user's own
 * (XDG data dir/attnlens/models or any folder opened), each with its model card. */
#ifndef LENS_MODELS_H
#define LENS_MODELS_H

#include <glib.h>

#include "attn_translate.h"

typedef struct LensModelEntry {
  char *name;         /* directory base name */
  char *display_name;
  char *path;
  char *task;         /* "translate", "caption", "read" */
  char *card;         /* MODEL.md text, or a note that there is none */
  char *example;      /* config attnlens.example: an input to show first, or NULL */
  gboolean user;      /* from the user's folder */
} LensModelEntry;

void lens_model_entry_free(LensModelEntry *e);

/* The user's models folder (not created). Caller frees. */
char *lens_models_user_dir(void);

/* Reads one model directory's config and card; NULL with error set if it is not usable. */
LensModelEntry *lens_model_entry_read(const char *path, gboolean user, GError **error);

/* Every usable model in the folders (NULL entries are skipped), sorted by task then name. */
GPtrArray *lens_models_scan(const char *const *folders, const gboolean *user_flags, int n_folders);

/* A loaded translator shared by the window and its worker threads (reference counted). */
typedef struct LensTranslator LensTranslator;
LensTranslator *lens_translator_load(const char *path, GError **error);
LensTranslator *lens_translator_ref(LensTranslator *t);
void lens_translator_unref(LensTranslator *t);
const attn_translator *lens_translator_get(LensTranslator *t);

#define LENS_ERROR (lens_error_quark())
GQuark lens_error_quark(void);

#endif
