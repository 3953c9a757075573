/* LensCompose: the Caption page's Compose mode. It holds the scene the user builds from the
 * shapes of training/scenes.py (lens_scene.h) and is its toolbar (shape, colour, size, Add,
 * Delete, Clear); the page forwards the pointer on its image as fractions of the image side.
 * "changed" (guint delay_ms) says the scene changed: the page takes lens_compose_render as its
 * image and captions it after delay_ms (a drag debounces). */
#ifndef LENS_COMPOSE_H
#define LENS_COMPOSE_H

#include <gtk/gtk.h>

#include "lens_render.h"
#include "lens_scene.h"

G_BEGIN_DECLS

#define LENS_TYPE_COMPOSE (lens_compose_get_type())
G_DECLARE_FINAL_TYPE(LensCompose, lens_compose, LENS, COMPOSE, GtkBox)

#define LENS_COMPOSE_SIDE 384 /* the composed scene, in pixels */

GtkWidget *lens_compose_new(void);

/* Adds a shape (indices into lens_scene.h's tables, clamped; big: 0 small, 1 big) centred at
 * (u, v), fractions of the image; it becomes the selected one. Returns its index. */
int lens_compose_add(LensCompose *self, int shape, int colour, int big, double u, double v);
int lens_compose_count(LensCompose *self);
int lens_compose_selected(LensCompose *self); /* -1 for none */
void lens_compose_delete_selected(LensCompose *self);
/* Shape i's centre, fractions of the image; FALSE if there is no shape i. */
gboolean lens_compose_locate(LensCompose *self, int i, double *u, double *v);

/* The pointer on the image, in fractions of it: grab selects the topmost shape at (u, v) and
 * returns TRUE when there is one to drag; drag_to moves it (keeping where it was grabbed);
 * release ends the drag. */
gboolean lens_compose_grab(LensCompose *self, double u, double v);
void lens_compose_drag_to(LensCompose *self, double u, double v);
void lens_compose_release(LensCompose *self);

/* The scene as a LENS_COMPOSE_SIDE square ARGB32 image surface (caller destroys). */
cairo_surface_t *lens_compose_render(LensCompose *self);
/* Outlines the selected shape over the image drawn in box `image` (not part of exports). */
void lens_compose_draw_selection(LensCompose *self, cairo_t *cr, const LensRect *image);

G_END_DECLS

#endif
