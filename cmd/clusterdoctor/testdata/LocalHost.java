// The oracle of the hosts.hostname tests: what Tomcat's Receiver address="auto" advertises
// is InetAddress.getLocalHost(), printed here by the JVM itself.
public class LocalHost {
    public static void main(String[] args) {
        try {
            System.out.println(java.net.InetAddress.getLocalHost().getHostAddress());
        } catch (java.net.UnknownHostException e) {
            System.out.println("UnknownHostException");
        }
    }
}
