package io.meshproxy.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ConfigJson prints valid JSON holding the effective configuration. */
class ConfigJsonTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static ProxyConfig sample() {
        RouteConfiguration routes = RouteConfiguration.builder().name("inbound")
                .virtualHost(VirtualHost.builder().name("reviews").domain("reviews.default.svc").domain("*")
                        .route(Route.builder().name("canary")
                                .match(RouteMatch.builder().pathPrefix("/reviews")
                                        .header(HeaderMatcher.exact("end-user", "ja\"son\\\n\u0001")).build())
                                .action(RouteAction.builder().weightedCluster("reviews", "v1", 90)
                                        .weightedCluster("reviews", "v2", 10).timeout(Duration.ofMillis(250)).build())
                                .responseHeaders(HeaderMutation.builder().set("x-served-by", "mesh").build())
                                .build())
                        .route(Route.builder().match(RouteMatch.builder().pathExact("/old").build())
                                .action(RedirectAction.builder().pathRedirect("/new").build()).build())
                        .route(Route.builder().action(DirectResponseAction.of(404, "not here")).build())
                        .build())
                .build();
        return ProxyConfig.builder()
                .listener(ListenerConfig.builder().name("in").port(15006).routes(routes).build())
                .listener(ListenerConfig.builder().name("app").handler("app").build())
                .cluster(ClusterConfig.builder().name("reviews")
                        .endpoint(EndpointConfig.builder().address("10.0.0.1").port(9080)
                                .labels(Map.of("version", "v1", "app", "reviews")).build())
                        .endpoint(EndpointConfig.builder().address("10.0.0.2").port(9080).weight(3)
                                .label("version", "v2").build())
                        .subset("v1", Map.of("version", "v1"))
                        .subset("v2", Map.of("version", "v2"))
                        .connectTimeout(Duration.ofNanos(1_500_000_001L))
                        .build())
                .admin(new AdminConfig(null, 15000))
                .build();
    }

    @Test
    void printsTheEffectiveConfigurationAsValidJson() throws Exception {
        JsonNode root = MAPPER.readTree(ConfigJson.toJson(sample()));
        assertEquals(List.of("listeners", "clusters", "admin"), fieldNames(root));

        JsonNode in = root.get("listeners").get(0);
        assertEquals(List.of("name", "address", "port", "routes", "handler", "maxRequestHeadersBytes",
                "maxRequestBodyBytes", "requestHeadersTimeout", "idleTimeout", "drainTimeout",
                "http2MaxConcurrentStreams", "streamIdleTimeout", "localRateLimit", "tlsMode"), fieldNames(in));
        assertEquals("300s", in.get("streamIdleTimeout").asText());
        assertEquals("127.0.0.1", in.get("address").asText());
        assertEquals(15006, in.get("port").asInt());
        assertTrue(in.get("handler").isNull());
        assertEquals(61440, in.get("maxRequestHeadersBytes").asInt());
        assertEquals("10s", in.get("requestHeadersTimeout").asText());
        assertEquals("3600s", in.get("idleTimeout").asText());
        assertEquals("5s", in.get("drainTimeout").asText());
        assertEquals("app", root.get("listeners").get(1).get("handler").asText());
        assertTrue(root.get("listeners").get(1).get("routes").isNull());

        JsonNode vh = in.get("routes").get("virtualHosts").get(0);
        assertEquals("reviews.default.svc", vh.get("domains").get(0).asText());
        JsonNode canary = vh.get("routes").get(0);
        assertEquals("PREFIX", canary.get("match").get("path").get("kind").asText());
        assertEquals("ja\"son\\\n\u0001", canary.get("match").get("headers").get(0).get("value").asText());
        JsonNode action = canary.get("action");
        assertEquals("route", action.get("type").asText());
        assertEquals("v2", action.get("clusters").get(1).get("subset").asText());
        assertEquals(10, action.get("clusters").get(1).get("weight").asInt());
        assertEquals("0.250s", action.get("timeout").asText());
        assertEquals("mesh", canary.get("responseHeaders").get("set").get(0).get("value").asText());
        assertEquals(0, canary.get("requestHeaders").get("set").size());
        assertEquals("redirect", vh.get("routes").get(1).get("action").get("type").asText());
        assertEquals(301, vh.get("routes").get(1).get("action").get("responseCode").asInt());
        assertEquals("direct_response", vh.get("routes").get(2).get("action").get("type").asText());
        assertEquals("not here", vh.get("routes").get(2).get("action").get("body").asText());

        JsonNode cluster = root.get("clusters").get(0);
        assertEquals("ROUND_ROBIN", cluster.get("lbPolicy").asText());
        assertEquals("HTTP1", cluster.get("protocol").asText());
        assertEquals("1.500000001s", cluster.get("connectTimeout").asText());
        assertEquals(List.of("app", "version"), fieldNames(cluster.get("endpoints").get(0).get("labels")));
        assertEquals(3, cluster.get("endpoints").get(1).get("weight").asInt());
        assertEquals("v2", cluster.get("subsets").get(1).get("labels").get("version").asText());

        assertEquals("127.0.0.1", root.get("admin").get("address").asText());
        assertEquals(15000, root.get("admin").get("port").asInt());
    }

    @Test
    void emptyConfigHasNullAdmin() throws Exception {
        assertEquals("{\"listeners\":[],\"clusters\":[],\"admin\":null}",
                ConfigJson.toJson(new ProxyConfig(List.of(), List.of(), null)));
    }

    @Test
    void durationsPrintAsProtobufDurations() {
        assertEquals("0s", ConfigJson.formatDuration(Duration.ZERO));
        assertEquals("10s", ConfigJson.formatDuration(Duration.ofSeconds(10)));
        assertEquals("0.250s", ConfigJson.formatDuration(Duration.ofMillis(250)));
        assertEquals("1.500s", ConfigJson.formatDuration(Duration.ofMillis(1500)));
        assertEquals("0.000001s", ConfigJson.formatDuration(Duration.ofNanos(1000)));
        assertEquals("0.000000001s", ConfigJson.formatDuration(Duration.ofNanos(1)));
        assertEquals("-1.500s", ConfigJson.formatDuration(Duration.ofMillis(-1500)));
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
