#!/usr/bin/env python3
"""QGIS Atlas, the tool community offices use today, printing the same
publicity-board atlas as `gridmap board --all`: one A1 PDF per community of a
gridmap GeoPackage store, with the community's blocks filled by category and
labelled by name, the community outline, a title, a legend filtered to the
map, a scale bar and the date.

Its page holds less than gridmap's (no worker panels, photos or QR code), so
the comparison favours QGIS. QGIS's start-up and project set-up are timed
apart from the export, and only the export counts per page.

    QT_QPA_PLATFORM=offscreen python3 scripts/bench/boards_qgis.py STORE.gpkg OUT_DIR

Needs Debian's python3-qgis. Prints one JSON line: pages, seconds, per page.
"""
import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemScaleBar,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsPalLayerSettings,
    QgsPrintLayout,
    QgsProject,
    QgsRendererCategory,
    QgsSymbol,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor, QFont  # noqa: E402

PALETTE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3"]


def layer(store, level, name):
    lyr = QgsVectorLayer(f"{store}|layername=grids|subset=\"level\" = '{level}'", name, "ogr")
    if not lyr.isValid():
        sys.exit(f"{store}: no `grids` layer with level {level}")
    return lyr


def main():
    store, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    project = QgsProject.instance()
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:3857"))

    blocks = layer(store, "block", "blocks")
    categories = []
    for i, f in enumerate(blocks.getFeatures()):
        sym = QgsSymbol.defaultSymbol(blocks.geometryType())
        sym.setColor(QColor(PALETTE[i % len(PALETTE)]))
        categories.append(QgsRendererCategory(f["code"], sym, f["name"]))
    blocks.setRenderer(QgsCategorizedSymbolRenderer("code", categories))
    labels = QgsPalLayerSettings()
    labels.fieldName = "name"
    fmt = QgsTextFormat()
    fmt.setFont(QFont("Noto Sans CJK SC"))
    fmt.setSize(12)
    labels.setFormat(fmt)
    blocks.setLabeling(QgsVectorLayerSimpleLabeling(labels))
    blocks.setLabelsEnabled(True)

    communities = layer(store, "community", "communities")
    outline = QgsSymbol.defaultSymbol(communities.geometryType())
    outline.symbolLayer(0).setBrushStyle(0)  # Qt.NoBrush
    outline.symbolLayer(0).setStrokeWidth(1.2)
    communities.renderer().setSymbol(outline)
    project.addMapLayers([blocks, communities])

    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    page = layout.pageCollection().page(0)
    page.setPageSize(QgsLayoutSize(594, 841, QgsUnitTypes.LayoutMillimeters))  # A1

    title = QgsLayoutItemLabel(layout)
    title.setText('[% "name" %]网格示意图')
    title.setFont(QFont("Noto Sans CJK SC", 48))
    title.attemptMove(QgsLayoutPoint(30, 20, QgsUnitTypes.LayoutMillimeters))
    title.attemptResize(QgsLayoutSize(534, 40, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(title)

    map_item = QgsLayoutItemMap(layout)
    map_item.attemptMove(QgsLayoutPoint(30, 70, QgsUnitTypes.LayoutMillimeters))
    map_item.attemptResize(QgsLayoutSize(534, 560, QgsUnitTypes.LayoutMillimeters))
    map_item.setLayers([communities, blocks])
    map_item.setCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    map_item.setAtlasDriven(True)
    map_item.setAtlasScalingMode(QgsLayoutItemMap.Auto)
    map_item.setAtlasMargin(0.08)
    layout.addLayoutItem(map_item)

    legend = QgsLayoutItemLegend(layout)
    legend.setLinkedMap(map_item)
    legend.setLegendFilterByMapEnabled(True)
    legend.attemptMove(QgsLayoutPoint(30, 640, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(legend)

    scale = QgsLayoutItemScaleBar(layout)
    scale.setStyle("Single Box")
    scale.setLinkedMap(map_item)
    scale.applyDefaultSize()
    scale.attemptMove(QgsLayoutPoint(400, 640, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(scale)

    date = QgsLayoutItemLabel(layout)
    date.setText("[% format_date(now(), 'yyyy-MM-dd') %]")
    date.attemptMove(QgsLayoutPoint(400, 800, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(date)

    atlas = layout.atlas()
    atlas.setCoverageLayer(communities)
    atlas.setEnabled(True)
    atlas.setFilenameExpression("\"code\" || '-' || \"name\"")
    setup = time.perf_counter() - t0

    settings = QgsLayoutExporter.PdfExportSettings()
    t1 = time.perf_counter()
    atlas.beginRender()
    pages = 0
    ok = atlas.first()
    while ok:
        exporter = QgsLayoutExporter(layout)
        path = os.path.join(out, atlas.currentFilename() + ".pdf")
        result = exporter.exportToPdf(path, settings)
        if result != QgsLayoutExporter.Success:
            sys.exit(f"QGIS could not export {path}: {result}")
        pages += 1
        ok = atlas.next()
    atlas.endRender()
    export = time.perf_counter() - t1
    print(json.dumps({"pages": pages, "setup_s": round(setup, 3), "export_s": round(export, 3),
                      "per_page_s": round(export / max(pages, 1), 3)}))
    app.exitQgis()


if __name__ == "__main__":
    main()
