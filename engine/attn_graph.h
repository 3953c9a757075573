/* Node classification with graph attention: a model directory (config.json, model.safetensors,
 * graph.json) turned into predictions for every node and a trace per node.
 *
 * A model (attn_graph_model) is immutable after loading and may be shared by threads. An
 * attn_graph is an editable copy of the model's edges (the window adds and removes edges
 * of the karate club); a caller owns it and must not edit it while another thread reads it
 * (copy it for the worker: attn_graph_copy).
 *
 * The trace (task "graph", one node): `source` holds the names of the node and its
 * neighbours, the map columns (the node first, then its neighbours by id); `output` is the
 * predicted class with its probability. Maps, 1 x columns each: "layer 1 mean", "layer 1
 * head 1" .. "layer 1 head H", then "layer 2" (or "layer 2 head k" and "layer 2 mean" when
 * the output layer has several heads). `graph` names the nodes shown (the columns; all
 * nodes of a graph of at most ATTN_GRAPH_WHOLE_MAX nodes), the edges among them, their
 * predicted and known classes and the class names. */
#ifndef ATTN_GRAPH_H
#define ATTN_GRAPH_H

#include "attn_trace.h"

#define ATTN_GRAPH_MAX_NODES 200000
#define ATTN_GRAPH_MAX_EDGES 2000000
#define ATTN_GRAPH_WHOLE_MAX 64

typedef struct attn_graph_model attn_graph_model;
typedef struct attn_graph attn_graph;
typedef struct attn_graph_result attn_graph_result;

/* Loads config.json ("GAT", attnlens.task "graph", attnlens.classes: one name per class,
 * attnlens.graph: the graph file, default graph.json), the weights and the graph. The
 * graph file: {"nodes": N, "feature_count": D (= in_features), "features": [[columns of
 * node i], ...] (binary, no repeats), "edges": [[a, b], ...] (undirected; repeats and
 * order do not matter, a != b), optional "names": [N strings], "labels": [N classes, -1
 * unknown], "split": {"train"|"val"|"test": [ids]}}. Returns NULL on failure. */
attn_graph_model *attn_graph_model_load(const char *dir, attn_error *err);
void attn_graph_model_free(attn_graph_model *m); /* NULL is fine */

const char *attn_graph_model_name(const attn_graph_model *m); /* directory base name */
const char *attn_graph_model_display_name(const attn_graph_model *m);
int attn_graph_model_nodes(const attn_graph_model *m);
int attn_graph_model_classes(const attn_graph_model *m);
int attn_graph_model_heads(const attn_graph_model *m);        /* heads of layer 1 */
const char *attn_graph_model_class_name(const attn_graph_model *m, int c);
const char *attn_graph_model_node_name(const attn_graph_model *m, int node); /* its id if unnamed */
int attn_graph_model_label(const attn_graph_model *m, int node); /* known class, -1 if none */
/* The ids of a split ("train", "val", "test"); *n gets their number (0 if absent). */
const int *attn_graph_model_split(const attn_graph_model *m, const char *split, int *n);
/* The model's own graph (do not edit: copy it). */
const attn_graph *attn_graph_model_graph(const attn_graph_model *m);
/* 1 if the node id is in range, else 0 and err says which ids exist. */
int attn_graph_model_check_node(const attn_graph_model *m, int node, attn_error *err);

attn_graph *attn_graph_copy(const attn_graph *g); /* NULL when out of memory */
void attn_graph_free(attn_graph *g);              /* NULL is fine */
int attn_graph_nodes(const attn_graph *g);
int attn_graph_edges(const attn_graph *g);        /* undirected edges */
int attn_graph_degree(const attn_graph *g, int node);
/* The node's neighbours in ascending order (degree entries; not itself). */
const int *attn_graph_neighbours(const attn_graph *g, int node);
int attn_graph_has_edge(const attn_graph *g, int a, int b);
/* Adds (present 1) or removes (0) the edge a-b. ATTN_E_ARG for an id out of range or a == b;
 * ATTN_E_VALUE when the graph would exceed ATTN_GRAPH_MAX_EDGES. */
attn_status attn_graph_set_edge(attn_graph *g, int a, int b, int present, attn_error *err);

/* Runs the model over a whole graph (g NULL: the model's own). NULL on failure. */
attn_graph_result *attn_graph_run(const attn_graph_model *m, const attn_graph *g, attn_error *err);
void attn_graph_result_free(attn_graph_result *r); /* NULL is fine */
int attn_graph_result_predicted(const attn_graph_result *r, int node);
float attn_graph_result_confidence(const attn_graph_result *r, int node);
const float *attn_graph_result_logits(const attn_graph_result *r, int node); /* [classes] */

/* The trace of one node from a result (of graph g, NULL: the model's). An unknown node id
 * is ATTN_E_ARG. NULL with err set on failure. */
attn_trace *attn_graph_trace(const attn_graph_model *m, const attn_graph *g, const attn_graph_result *r, int node,
                             attn_error *err);
/* attn_graph_run, then attn_graph_trace. */
attn_trace *attn_graph_query(const attn_graph_model *m, const attn_graph *g, int node, attn_error *err);

#endif
