// The public Durable Streams conformance suite against the node under test.
// DurableStreamsConformanceTest sets CONFORMANCE_TEST_URL to that node's root URL.
import { runConformanceTests } from "@durable-streams/server-conformance-tests"
runConformanceTests({ baseUrl: process.env.CONFORMANCE_TEST_URL })
