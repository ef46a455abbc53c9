/*++
/* NAME
/*	svgchart 3
/* SUMMARY
/*	failures per cause per hour as an inline SVG stacked bar chart
/* SYNOPSIS
/*	#include "svgchart.h"
/*
/*	void svgchart_render(struct buf *b, const char *id,
/*		const char *title, const char *const *hours, size_t nhours,
/*		const struct svgchart_cell *cells, size_t ncells)
/*
/*	const char *svgchart_colour(const char *cause)
/* DESCRIPTION
/*	svgchart_render() appends one <svg> element: role="img", a
/*	<title> (title), one bar per hour (hours[i] is the hour's ISO
/*	time, "2026-12-02T14:00:00Z"; its "14" labels the axis), each
/*	bar a stack of one <rect> per cause with a non-zero count, with
/*	data-hour (the ISO time), data-cause and data-count, and a
/*	legend of the causes, the largest total first. Cells of the same
/*	hour and cause add up; cells of an hour out of range are left
/*	out. The chart uses presentation attributes (fill=) and classes
/*	only, never a style attribute, so that a Content-Security-Policy
/*	without 'unsafe-inline' shows it whole. Every text is escaped.
/*
/*	svgchart_colour() gives a cause's colour: fixed per cause of the
/*	catalogue, grey for an id it does not know.
/*--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cause.h"
#include "html.h"
#include "svgchart.h"
#include "util.h"

/* Geometry of the viewBox, in its units. */
#define LEFT	44		/* room for the count axis */
#define TOP	16
#define SLOT	26		/* one hour */
#define BAR	20
#define PLOT_H	170
#define AXIS_H	18		/* hour labels below the plot */
#define LEG_ROW	18
#define LEG_COL	200

/* One colour per cause, told apart on screen and in grey print. */
static const char *const palette[CAUSE_COUNT] = {
	[CAUSE_NONE] = "#888888",
	[CAUSE_BAD_PASSWORD] = "#d62728",
	[CAUSE_UNKNOWN_USER] = "#1f77b4",
	[CAUSE_BAD_CREDENTIALS] = "#ff7f0e",
	[CAUSE_APP_PASSWORD_REQUIRED] = "#9467bd",
	[CAUSE_APP_PASSWORD_SPACES] = "#c5b0d5",
	[CAUSE_STALE_PASSWORD] = "#e377c2",
	[CAUSE_PASSWORD_GUESSING] = "#8c1c13",
	[CAUSE_OAUTH_REQUIRED] = "#17becf",
	[CAUSE_ACCOUNT_DISABLED] = "#7f7f7f",
	[CAUSE_PASSWORD_EXPIRED] = "#bcbd22",
	[CAUSE_TLS_REQUIRED] = "#2ca02c",
	[CAUSE_MALFORMED_RESPONSE] = "#8c564b",
	[CAUSE_AUTHZID_MISMATCH] = "#c49c94",
	[CAUSE_ACCOUNT_LOCKED] = "#393b79",
	[CAUSE_IP_BLOCKED] = "#637939",
	[CAUSE_AUTH_SERVICE_UNAVAILABLE] = "#ffbb78",
	[CAUSE_NO_AUTH_NO_TLS] = "#98df8a",
	[CAUSE_NO_AUTH_ATTEMPTED] = "#aec7e8",
	[CAUSE_AUTH_FAILED_THEN_SENT] = "#f7b6d2",
	[CAUSE_CLEARTEXT_AUTH] = "#dbdb8d",
};

/* A cause of the legend. */
struct legend {
	const char	*cause;
	unsigned long long total;
};

/* svgchart_colour - a cause's fixed colour */
const char *
svgchart_colour(const char *cause)
{
	enum cause c = cause ? cause_by_id(cause) : CAUSE_COUNT;

	return palette[c < CAUSE_COUNT ? c : CAUSE_NONE];
}

/* add_sat - a + b, held at the largest value */
static unsigned long long
add_sat(unsigned long long a, unsigned long long b)
{
	return a + b < a ? ~0ULL : a + b;
}

/* legend_index - the cause's place in the legend, added if new */
static size_t
legend_index(struct legend *leg, size_t *n, const char *cause)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(leg[i].cause, cause) == 0)
			return i;
	leg[*n].cause = cause;
	leg[*n].total = 0;
	return (*n)++;
}

/* legend_sort - largest total first, ties in order of appearance */
static void
legend_sort(struct legend *leg, size_t n, size_t *order)
{
	size_t i, j, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && leg[order[j]].total >
		    leg[order[j - 1]].total; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
}

/* nice_max - the axis top, >= max: 2, 4 or 10 times a power of ten */
static double
nice_max(unsigned long long max)
{
	static const double steps[] = {2, 4, 10};
	double m = 1;
	size_t i;

	for (;;) {
		for (i = 0; i < NELEM(steps); i++)
			if (m * steps[i] >= (double)max)
				return m * steps[i];
		m *= 10;
	}
}

/* hour_label - "14" from "2026-12-02T14:00:00Z", else the index */
static void
hour_label(const char *iso, size_t i, char *out, size_t len)
{
	if (iso && strlen(iso) >= 13 && iso[10] == 'T' &&
	    iso[11] >= '0' && iso[11] <= '9' && iso[12] >= '0' && iso[12] <= '9')
		snprintf(out, len, "%c%c", iso[11], iso[12]);
	else
		snprintf(out, len, "%zu", i);
}

/* draw_axes - grid lines, count labels, hour labels */
static void
draw_axes(struct buf *b, const char *const *hours, size_t nh, double top)
{
	char lab[32];
	size_t i;
	int k;

	buf_puts(b, "<g class=\"axis\">");
	for (k = 0; k <= 2; k++) {
		double y = TOP + PLOT_H - PLOT_H * k / 2.0;

		buf_printf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%zu\" "
		    "y2=\"%.1f\" stroke=\"#cccccc\"/>", LEFT, y,
		    (size_t)LEFT + nh * SLOT, y);
		buf_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
		    "font-size=\"11\">%.0f</text>", LEFT - 6, y + 4, top * k / 2);
	}
	for (i = 0; i < nh; i++) {
		hour_label(hours[i], i, lab, sizeof(lab));
		buf_printf(b, "<text x=\"%zu\" y=\"%d\" text-anchor=\"middle\" "
		    "font-size=\"11\">", LEFT + i * SLOT + SLOT / 2,
		    TOP + PLOT_H + 14);
		html_esc(b, lab);
		buf_puts(b, "</text>");
	}
	buf_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"11\">hour (UTC)"
	    "</text></g>", LEFT, TOP + PLOT_H + AXIS_H + 10);
}

/* draw_rect - one (hour, cause) of a bar */
static void
draw_rect(struct buf *b, const char *hour, size_t i, const char *cause,
    unsigned long long count, double y, double h)
{
	buf_printf(b, "<rect x=\"%zu\" y=\"%.2f\" width=\"%d\" height=\"%.2f\"",
	    LEFT + i * SLOT + (SLOT - BAR) / 2, y, BAR, h);
	html_attr(b, "fill", svgchart_colour(cause));
	html_attr(b, "data-hour", hour ? hour : "");
	html_attr(b, "data-cause", cause);
	buf_printf(b, " data-count=\"%llu\"><title>", count);
	html_esc(b, hour);
	buf_puts(b, " ");
	html_esc(b, cause);
	buf_printf(b, ": %llu</title></rect>", count);
}

/* draw_legend - one swatch and name per cause */
static void
draw_legend(struct buf *b, const struct legend *leg, const size_t *order,
    size_t n, size_t width)
{
	size_t cols = width / LEG_COL ? width / LEG_COL : 1, i;
	int y0 = TOP + PLOT_H + AXIS_H + 26;

	buf_puts(b, "<g class=\"legend\">");
	for (i = 0; i < n; i++) {
		const struct legend *l = &leg[order[i]];
		size_t x = 8 + (i % cols) * LEG_COL;
		size_t y = (size_t)y0 + (i / cols) * LEG_ROW;

		buf_printf(b, "<rect x=\"%zu\" y=\"%zu\" width=\"12\" height=\"12\"",
		    x, y);
		html_attr(b, "fill", svgchart_colour(l->cause));
		buf_printf(b, "/><text x=\"%zu\" y=\"%zu\" font-size=\"12\">", x + 18,
		    y + 10);
		html_esc(b, l->cause);
		buf_printf(b, " (%llu)</text>", l->total);
	}
	buf_puts(b, "</g>");
}

/* svgchart_render - the whole chart */
void
svgchart_render(struct buf *b, const char *id, const char *title,
    const char *const *hours, size_t nh, const struct svgchart_cell *cells,
    size_t ncells)
{
	struct legend *leg = xcalloc(ncells + 1, sizeof(*leg));
	size_t *order, *li = xcalloc(ncells + 1, sizeof(*li));
	unsigned long long *sum, max = 0, tot;
	size_t nleg = 0, i, j, width, rows, height;
	double top, y, h;

	if (nh > SVGCHART_HOURS_MAX)
		nh = SVGCHART_HOURS_MAX;
	for (i = 0; i < ncells; i++)
		if (cells[i].hour < nh && cells[i].count && cells[i].cause)
			li[i] = legend_index(leg, &nleg, cells[i].cause);
	sum = xcalloc(nh * nleg + 1, sizeof(*sum));
	for (i = 0; i < ncells; i++) {
		const struct svgchart_cell *c = &cells[i];
		unsigned long long *cell;

		if (c->hour >= nh || c->count == 0 || c->cause == NULL)
			continue;
		cell = &sum[c->hour * nleg + li[i]];
		*cell = add_sat(*cell, c->count);
		leg[li[i]].total = add_sat(leg[li[i]].total, c->count);
	}
	for (i = 0; i < nh; i++) {
		for (tot = 0, j = 0; j < nleg; j++)
			tot = add_sat(tot, sum[i * nleg + j]);
		if (tot > max)
			max = tot;
	}
	order = xcalloc(nleg + 1, sizeof(*order));
	legend_sort(leg, nleg, order);
	top = nice_max(max);
	width = LEFT + (nh ? nh : 1) * SLOT + 8;
	if (width < 2 * LEG_COL)
		width = 2 * LEG_COL;
	rows = (nleg + width / LEG_COL - 1) / (width / LEG_COL);
	height = TOP + PLOT_H + AXIS_H + 30 + rows * LEG_ROW;

	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %zu "
	    "%zu\"", width, height);
	html_attr(b, "id", id);
	buf_puts(b, " class=\"chart\" role=\"img\"");
	buf_puts(b, "><title>");
	html_esc(b, title);
	buf_puts(b, "</title>");
	draw_axes(b, hours, nh, top);
	buf_puts(b, "<g class=\"bars\">");
	for (i = 0; i < nh; i++) {
		y = TOP + PLOT_H;
		for (j = 0; j < nleg; j++) {
			unsigned long long c = sum[i * nleg + order[j]];

			if (c == 0)
				continue;
			h = PLOT_H * ((double)c / top);
			y -= h;
			draw_rect(b, hours[i], i, leg[order[j]].cause, c, y, h);
		}
	}
	buf_puts(b, "</g>");
	draw_legend(b, leg, order, nleg, width);
	buf_puts(b, "</svg>");
	free(order);
	free(sum);
	free(li);
	free(leg);
}
