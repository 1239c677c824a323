// Starts DynamoDB Local listening on 127.0.0.1 only.
//
// DynamoDB Local has no bind option: its DynamoDBProxyServer builds Jetty's
// Server(port), whose one connector listens on every interface, and Jetty 12
// reads no system property for the host (-Djetty.host is for jetty.xml
// setups; tried, it still listens on *). With the well-known local keys, that
// means anyone on the network can read and write the table. This launcher
// builds the server exactly as DynamoDB Local's own main does (same command
// line), sets the connector's host to loopback before it starts, then starts
// it. It skips the usage telemetry that main configures.
//
// devtools/embedded/dynamodb_local.py compiles it once with javac, then runs:
//   java -cp "<lib>/*:<classes>" LoopbackDynamoDBLocal -port 8000 -inMemory -sharedDb

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class LoopbackDynamoDBLocal {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        Connector[] connectors = server.getConnectors();
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local built a server without a connector");
        }
        for (Connector connector : connectors) {
            // Fails loudly (ClassCastException) if a new version builds another kind.
            ((ServerConnector) connector).setHost(HOST);
        }
        proxy.start();
        System.out.println("Listening on " + HOST + " only");
    }
}
