package io.meshproxy.config.internal;

import org.snakeyaml.engine.v2.nodes.Node;

/** A place in a source: file, 1-based line and column. */
record Loc(String file, int line, int column) {
    static Loc of(String file, Node node) {
        return node.getStartMark()
                .map(m -> new Loc(file, m.getLine() + 1, m.getColumn() + 1))
                .orElse(new Loc(file, 1, 1));
    }

    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
