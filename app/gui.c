/* The GtkApplication: one main window, keyboard accelerators and the stylesheet. */
#include <gtk/gtk.h>

#include "cli.h"
#include "lens_window.h"

#define APP_ID "io.github.attnlens.attnlens"

static const char css[] =
    "button.token { padding: 2px 6px; min-height: 0; font-size: 1.1em; }\n"
    "traceview { background: transparent; }\n"
    ".source-text { font-size: 1.15em; }\n"
    ".toolbar { padding: 2px 0; }\n";

static void on_quit(GSimpleAction *a, GVariant *p, gpointer app) { g_application_quit(G_APPLICATION(app)); }

static void on_startup(GApplication *app, gpointer data) {
  GtkCssProvider *provider = gtk_css_provider_new();
  gtk_css_provider_load_from_data(provider, css, -1);
  gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(provider),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref(provider);
  static const GActionEntry app_actions[] = {{"quit", on_quit, NULL, NULL, NULL, {0}}};
  g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, 1, app);
  struct { const char *action; const char *accels[3]; } accels[] = {
      {"win.export", {"<Control>e", NULL}},
      {"win.copy-picture", {"<Control><Shift>c", "<Control>c", NULL}},
      {"win.open-model", {"<Control>o", NULL}},
      {"win.shortcuts", {"<Control>question", NULL}},
      {"app.quit", {"<Control>q", NULL}},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(accels); i++)
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), accels[i].action, accels[i].accels);
}

static void on_activate(GApplication *app, gpointer data) {
  GtkWindow *win = gtk_application_get_active_window(GTK_APPLICATION(app));
  if (!win) {
    g_autofree char *shipped = cli_find_data("data/models");
    win = GTK_WINDOW(lens_window_new(GTK_APPLICATION(app), shipped));
  }
  gtk_window_present(win);
}

int cli_gui(int argc, char **argv) {
  if (!gtk_init_check()) {
    cli_error("cannot open a display; the command line still works (attnlens --help)");
    return 1;
  }
  GtkApplication *app = gtk_application_new(APP_ID, G_APPLICATION_NON_UNIQUE);
  g_signal_connect(app, "startup", G_CALLBACK(on_startup), NULL);
  g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
  char *args[] = {argv[0], NULL};
  int status = g_application_run(G_APPLICATION(app), 1, args);
  g_object_unref(app);
  return status;
}
