import java.io.File;
import java.io.FileInputStream;
import java.io.PrintWriter;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.util.HtmlUtils;

public class FileServlet extends HttpServlet {
    private static final Path BASE = Paths.get("/srv/uploads");

    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws Exception {
        String name = request.getParameter("file");
        // ruleid: vigil-java-path-traversal
        FileInputStream in = new FileInputStream("/srv/uploads/" + name);
        // ok: vigil-java-path-traversal
        File safe = new File("/srv/uploads", Paths.get(name).getFileName().toString());
        Path full = BASE.resolve(name).normalize();
        if (!full.startsWith(BASE)) {
            response.sendError(400);
            return;
        }
        // ok: vigil-java-path-traversal
        byte[] data = Files.readAllBytes(full);
        PrintWriter out = response.getWriter();
        String q = request.getParameter("q");
        // ruleid: vigil-java-xss
        out.println("<p>Results for " + q + "</p>");
        // ok: vigil-java-xss
        out.println("<p>Results for " + HtmlUtils.htmlEscape(q) + "</p>");
        // ruleid: vigil-java-xss
        response.getWriter().write(request.getParameter("msg"));
        // ok: vigil-java-xss
        response.getWriter().write("done");
        // ruleid: vigil-java-open-redirect
        response.sendRedirect(request.getParameter("next"));
        String next = request.getParameter("back");
        if (next.startsWith("/") && !next.startsWith("//")) {
            // ok: vigil-java-open-redirect
            response.sendRedirect(next);
        }
    }
}

@RestController
class ProxyController {
    private RestTemplate restTemplate;
    private static final Set<String> ALLOWED = Set.of("images.example.com");

    @GetMapping("/files/{name}")
    public byte[] file(@PathVariable String name) throws Exception {
        // ruleid: vigil-java-path-traversal
        return Files.readAllBytes(Paths.get("/srv/uploads", name));
    }

    @GetMapping("/preview")
    public String preview(@RequestParam String url) throws Exception {
        // ruleid: vigil-java-ssrf
        return restTemplate.getForObject(url, String.class);
    }

    @GetMapping("/fetch")
    public Object fetch(@RequestParam String host) throws Exception {
        // ruleid: vigil-java-ssrf
        return new URL("http://" + host + "/status").openStream().read();
    }

    @GetMapping("/user")
    public String user(@RequestParam String name) {
        // ok: vigil-java-ssrf
        return restTemplate.getForObject("https://api.example.com/users/" + name, String.class);
    }

    @GetMapping("/image")
    public String image(@RequestParam String url) throws Exception {
        String host = new java.net.URI(url).getHost();
        if (!ALLOWED.contains(host)) {
            throw new IllegalArgumentException("host not allowed");
        }
        // ok: vigil-java-ssrf
        return restTemplate.getForObject(url, String.class);
    }

    @GetMapping("/login")
    public String login(@RequestParam String next) {
        // ruleid: vigil-java-open-redirect
        return "redirect:" + next;
    }

    @GetMapping("/home")
    public String home(@RequestParam String tab) {
        // ok: vigil-java-open-redirect
        return "redirect:/home";
    }
}
