/* Colour maps: matplotlib's 256-entry viridis, magma and cividis tables and a grey ramp
 * that is linear in CIE L* (dark to light, like the others), interpolated linearly. */
#include <math.h>
#include <strings.h>

#include "lens_render.h"
#include "lens_colormap_tables.h"

static const struct {
  const char *name;
  const float (*table)[3];
} colormaps[LENS_CMAP_COUNT] = {
    [LENS_CMAP_VIRIDIS] = {"viridis", lens_cmap_viridis},
    [LENS_CMAP_MAGMA] = {"magma", lens_cmap_magma},
    [LENS_CMAP_CIVIDIS] = {"cividis", lens_cmap_cividis},
    [LENS_CMAP_GREYS] = {"greys", lens_cmap_greys},
};

void lens_colormap_rgb(LensColormap map, double t, double rgb[3]) {
  if ((unsigned)map >= LENS_CMAP_COUNT) map = LENS_CMAP_VIRIDIS;
  const float (*table)[3] = colormaps[map].table;
  if (!(t > 0)) t = 0; /* also NaN */
  if (t > 1) t = 1;
  double x = t * 255.0;
  int i = (int)floor(x);
  if (i >= 255) i = 254;
  double f = x - i;
  for (int c = 0; c < 3; c++) rgb[c] = table[i][c] + f * (table[i + 1][c] - table[i][c]);
}

const char *lens_colormap_name(LensColormap map) {
  if ((unsigned)map >= LENS_CMAP_COUNT) return "viridis";
  return colormaps[map].name;
}

int lens_colormap_from_name(const char *name, LensColormap *out) {
  if (!name) return -1;
  for (int m = 0; m < LENS_CMAP_COUNT; m++)
    if (strcasecmp(name, colormaps[m].name) == 0) {
      *out = (LensColormap)m;
      return 0;
    }
  if (strcasecmp(name, "grays") == 0 || strcasecmp(name, "grey") == 0 ||
      strcasecmp(name, "gray") == 0) {
    *out = LENS_CMAP_GREYS;
    return 0;
  }
  return -1;
}
