/* The scene world of training/scenes.py (see lens_scene.h). */
#include "lens_scene.h"

#include <math.h>
#include <string.h>

const char *const lens_compose_shape_names[LENS_COMPOSE_SHAPES + 1] = {"circle", "square", "triangle", "diamond",
                                                                       "star", "hexagon", "cross", NULL};
const char *const lens_compose_colour_names[LENS_COMPOSE_COLOURS + 1] = {"red", "orange", "yellow", "green",
                                                                         "blue", "purple", "pink", "brown", NULL};
static const unsigned char colour_rgb[LENS_COMPOSE_COLOURS][3] = {
    {214, 39, 40}, {247, 129, 23}, {245, 214, 41}, {44, 160, 64}, {36, 87, 214}, {132, 58, 186}, {245, 125, 190}, {128, 78, 38}};
static const double size_radius[2] = {0.095, 0.175}; /* the middle of scenes.SIZES, fractions of the side */
static const double background_rgb[3] = {0.72, 0.73, 0.70};

#define MAX_VERTS 12
typedef struct Polygon {
  int n; /* 0: the unit circle */
  double x[MAX_VERTS], y[MAX_VERTS];
} Polygon;

static void regular(Polygon *p, int n, double radius, double start_deg, double shift_y) {
  p->n = n;
  for (int k = 0; k < n; k++) {
    double a = (start_deg + 360.0 * k / n) * M_PI / 180.0;
    p->x[k] = radius * cos(a), p->y[k] = radius * sin(a) + shift_y;
  }
}

/* scenes.SHAPES, in units of the radius, y down. */
static void shape_polygon(int shape, Polygon *p) {
  static const double square[] = {-0.88, -0.88, 0.88, -0.88, 0.88, 0.88, -0.88, 0.88};
  static const double diamond[] = {0.0, -1.15, 0.9, 0.0, 0.0, 1.15, -0.9, 0.0};
  const double w = 0.36;
  const double cross[] = {-w, -1, w, -1, w, -w, 1, -w, 1, w, w, w, w, 1, -w, 1, -w, w, -1, w, -1, -w, -w, -w};
  const double *fixed = shape == 1 ? square : shape == 3 ? diamond : shape == 6 ? cross : NULL;
  memset(p, 0, sizeof *p);
  if (fixed) {
    p->n = shape == 6 ? 12 : 4;
    for (int k = 0; k < p->n; k++) p->x[k] = fixed[2 * k], p->y[k] = fixed[2 * k + 1];
  } else if (shape == 2) {
    regular(p, 3, 1.3, -90.0, 0.325);
  } else if (shape == 4) {
    p->n = 10;
    for (int k = 0; k < 10; k++) {
      double r = k % 2 ? 0.5 : 1.2, a = (-90.0 + 36.0 * k) * M_PI / 180.0;
      p->x[k] = r * cos(a), p->y[k] = r * sin(a) + 0.115;
    }
  } else if (shape == 5) {
    regular(p, 6, 1.05, 0.0, 0.0);
  }
}

/* Even-odd point-in-shape test in units of the radius, as scenes.inside. */
static int inside_shape(int shape, double x, double y) {
  Polygon p;
  shape_polygon(shape, &p);
  if (p.n == 0) return x * x + y * y <= 1.0;
  int in = 0;
  for (int k = 0; k < p.n; k++) {
    double x0 = p.x[k], y0 = p.y[k], x1 = p.x[(k + 1) % p.n], y1 = p.y[(k + 1) % p.n];
    if (y0 != y1 && (y0 > y) != (y1 > y) && x < x0 + (y - y0) * (x1 - x0) / (y1 - y0)) in = !in;
  }
  return in;
}

void lens_scene_shape_path(cairo_t *cr, const LensSceneShape *s, double side) {
  double r = size_radius[s->big] * side, cx = s->x * side, cy = s->y * side;
  Polygon p;
  shape_polygon(s->shape, &p);
  cairo_new_path(cr);
  if (p.n == 0) cairo_arc(cr, cx, cy, r, 0, 2 * M_PI);
  for (int k = 0; k < p.n; k++) cairo_line_to(cr, cx + r * p.x[k], cy + r * p.y[k]);
  cairo_close_path(cr);
}

void lens_scene_draw(cairo_t *cr, const LensSceneShape *shapes, int n, double side) {
  cairo_set_source_rgb(cr, background_rgb[0], background_rgb[1], background_rgb[2]);
  cairo_paint(cr);
  for (int i = 0; i < n; i++) {
    const LensSceneShape *sh = &shapes[i];
    lens_scene_shape_path(cr, sh, side);
    cairo_set_source_rgb(cr, colour_rgb[sh->colour][0] / 255.0, colour_rgb[sh->colour][1] / 255.0,
                         colour_rgb[sh->colour][2] / 255.0);
    cairo_fill(cr);
  }
}

int lens_scene_hit(const LensSceneShape *s, double u, double v, double slack) {
  double r = size_radius[s->big] * slack;
  return inside_shape(s->shape, (u - s->x) / r, (v - s->y) / r);
}
