/* The scene world of training/scenes.py (shapes, colours, sizes, the same polygons), drawn with
 * Cairo, so that a scene composed in the window looks like the scenes the caption model learned
 * from. No GTK: the Caption page's Compose mode draws and hit-tests with it. */
#ifndef LENS_SCENE_H
#define LENS_SCENE_H

#include <cairo.h>

#define LENS_COMPOSE_SHAPES 7
#define LENS_COMPOSE_COLOURS 8
extern const char *const lens_compose_shape_names[LENS_COMPOSE_SHAPES + 1];   /* NULL-terminated */
extern const char *const lens_compose_colour_names[LENS_COMPOSE_COLOURS + 1]; /* NULL-terminated */

typedef struct LensSceneShape {
  int shape, colour, big; /* indices into the names above; big: 0 or 1 */
  double x, y;            /* centre, fractions of the image side */
} LensSceneShape;

/* The outline of s in a side x side image, as the current path. */
void lens_scene_shape_path(cairo_t *cr, const LensSceneShape *s, double side);
/* The background, then the n shapes bottom to top. */
void lens_scene_draw(cairo_t *cr, const LensSceneShape *shapes, int n, double side);
/* 1 when (u, v) (fractions of the side) is inside s grown by slack (1 = its own size). */
int lens_scene_hit(const LensSceneShape *s, double u, double v, double slack);

#endif
